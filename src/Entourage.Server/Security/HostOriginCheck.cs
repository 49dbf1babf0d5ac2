namespace Entourage.Server.Security;

/// <summary>
/// DNS rebinding and cross-site requests. On a loopback-only server (no key needed) a page from another site can
/// reach localhost, but it cannot make its Host header say "localhost" nor hide its Origin: both must be
/// loopback. Off loopback any Host may be legitimate (a public name), but a browser's Origin must be the server's
/// own (or one of Security:AllowedOrigins), so no other site can ride on a signed-in dashboard cookie.
/// </summary>
public static class HostOriginCheck
{
    /// <summary>Why the request is refused, or null.</summary>
    public static string? Refusal(HttpRequest request, bool offLoopback, IReadOnlyCollection<string> allowedOrigins)
    {
        var host = request.Host.Host;
        if (!offLoopback && !IsLoopbackName(host))
            return $"Host '{host}' is not allowed: this server only answers requests addressed to localhost.";
        if (request.Headers.Origin is not { Count: > 0 } origin) return null;
        var text = origin.ToString();
        if (allowedOrigins.Any(a => string.Equals(a.TrimEnd('/'), text, StringComparison.OrdinalIgnoreCase))) return null;
        if (!offLoopback)
            return IsLoopbackOrigin(text) ? null : $"Origin '{text}' is not allowed: only pages served from localhost may call this server.";
        return IsSameOrigin(text, request)
            ? null
            : $"Origin '{text}' is not allowed: only pages of this server may call it. Add the origin to Security:AllowedOrigins if a proxy serves the dashboard under another name.";
    }

    public static bool IsLoopbackName(string host) =>
        host is "localhost" or "127.0.0.1" or "[::1]" or "::1" || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);

    private static bool IsLoopbackOrigin(string origin) =>
        origin != "null" && Uri.TryCreate(origin, UriKind.Absolute, out var u) && IsLoopbackName(u.Host);

    private static bool IsSameOrigin(string origin, HttpRequest request) =>
        origin != "null" && Uri.TryCreate(origin, UriKind.Absolute, out var u)
        && string.Equals(u.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
        && string.Equals(u.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase);
}
