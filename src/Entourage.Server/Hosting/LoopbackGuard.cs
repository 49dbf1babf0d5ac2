namespace Entourage.Server.Hosting;

/// <summary>
/// DNS-rebinding and CSRF defence for a server that listens on loopback without a key: a browser page from
/// another site can reach localhost, but it cannot make its Host header say "localhost", nor hide its Origin.
/// </summary>
public sealed class LoopbackGuard(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext http)
    {
        var host = http.Request.Host.Host;
        if (!IsLoopbackName(host))
        {
            await Refuse(http, $"Host '{host}' is not allowed: this server only answers requests addressed to localhost.");
            return;
        }
        if (http.Request.Headers.Origin is { Count: > 0 } origin && !IsLoopbackOrigin(origin.ToString()))
        {
            await Refuse(http, $"Origin '{origin}' is not allowed: only pages served from localhost may call this server.");
            return;
        }
        await next(http);
    }

    private static bool IsLoopbackName(string host) =>
        host is "localhost" or "127.0.0.1" or "[::1]" or "::1" || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);

    private static bool IsLoopbackOrigin(string origin) =>
        origin == "null" ? false : Uri.TryCreate(origin, UriKind.Absolute, out var u) && IsLoopbackName(u.Host);

    private static Task Refuse(HttpContext http, string detail) =>
        Results.Problem(statusCode: 403, title: "Forbidden", detail: detail).ExecuteAsync(http);
}
