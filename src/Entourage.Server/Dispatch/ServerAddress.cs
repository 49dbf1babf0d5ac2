using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Dispatch;

/// <summary>
/// The URL agent processes use to reach this server (ENTOURAGE_URL, the MCP config): Dispatch:ServerUrl when
/// set, else the first address Kestrel bound, with wildcard hosts turned into loopback. A runner node has no
/// Kestrel: it must be told the server's URL (<c>entourage runner --server</c>).
/// </summary>
public sealed class ServerAddress(IServiceProvider services, IOptions<DispatchOptions> options)
{
    public string Url
    {
        get
        {
            if (options.Value.ServerUrl is { Length: > 0 } configured) return configured.TrimEnd('/');
            var first = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? Hosting.EntourageApp.DefaultUrl;
            return first.Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal)
                .Replace("://[::]", "://localhost", StringComparison.Ordinal)
                .Replace("://+", "://localhost", StringComparison.Ordinal)
                .Replace("://*", "://localhost", StringComparison.Ordinal)
                .TrimEnd('/');
        }
    }
}
