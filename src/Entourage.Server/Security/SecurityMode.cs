using System.Net;
using Entourage.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Security;

/// <summary>
/// Whether this server demands credentials: decided from the configured URLs before the first request, and
/// re-checked against the addresses Kestrel actually bound once it started (a Kestrel:Endpoints entry or
/// ASPNETCORE_HTTP_PORTS can bind 0.0.0.0 without "urls" saying so). It only ever tightens.
/// </summary>
public sealed class SecurityMode(IConfiguration config, IOptions<SecurityOptions> options)
{
    private volatile bool _offLoopback = !AllLoopback((config["urls"] ?? EntourageApp.DefaultUrl).Split(';', StringSplitOptions.RemoveEmptyEntries));

    /// <summary>True when some listen address is reachable from other machines.</summary>
    public bool OffLoopback => _offLoopback;

    /// <summary>Every request needs a key or token (off-loopback, or Security:RequireApiKey=true).</summary>
    public bool RequireCredentials => _offLoopback || options.Value.RequireApiKey == true;

    /// <summary>Called with the bound addresses once the server listens.</summary>
    public void ObserveBoundAddresses(IEnumerable<string> addresses)
    {
        if (!AllLoopback(addresses)) _offLoopback = true;
    }

    /// <summary>True when every URL names localhost or a loopback IP ("*", "+", 0.0.0.0 and [::] are not).</summary>
    public static bool AllLoopback(IEnumerable<string> urls) => urls.All(u =>
    {
        var text = u.Trim().Replace("://*", "://wildcard", StringComparison.Ordinal).Replace("://+", "://wildcard", StringComparison.Ordinal);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)) return false;
        return uri.Host == "localhost" || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    });
}
