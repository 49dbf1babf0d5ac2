using System.Net;

namespace Entourage.Client.Http;

/// <summary>
/// The server answered with an error. Carries the RFC 9457 problem details (title, detail, per-field errors) so
/// callers can show the server's advice on what to fix.
/// </summary>
public sealed class EntourageApiException(HttpStatusCode status, string? title, string? detail, IReadOnlyDictionary<string, string[]>? errors, string? body)
    : Exception(Describe(status, title, detail))
{
    public HttpStatusCode Status { get; } = status;
    public string? Title { get; } = title;
    public string? Detail { get; } = detail;
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors ?? new Dictionary<string, string[]>();
    public string? Body { get; } = body;

    private static string Describe(HttpStatusCode status, string? title, string? detail) =>
        $"{(int)status} {title ?? status.ToString()}" + (string.IsNullOrEmpty(detail) ? "" : ": " + detail);
}

/// <summary>No server answered at the URL (connection refused, DNS failure, timeout).</summary>
public sealed class EntourageUnreachableException(Uri baseUrl, Exception inner)
    : Exception($"No Entourage server answered at {baseUrl}: {inner.Message}", inner)
{
    public Uri BaseUrl { get; } = baseUrl;
}
