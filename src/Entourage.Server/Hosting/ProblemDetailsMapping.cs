using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Hosting;

/// <summary>
/// Maps every client-side failure to RFC 9457 problem details with a detail that says what to fix; a database that
/// is briefly unavailable becomes 503 with Retry-After; only real server faults become 500.
/// </summary>
public sealed partial class ProblemDetailsMapping(IProblemDetailsService problems, ILogger<ProblemDetailsMapping> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        var problem = Map(exception);
        if (problem is null)
        {
            LogUnhandled(logger, exception, http.Request.Method, http.Request.Path);
            return false;
        }
        http.Response.StatusCode = problem.Status ?? 400;
        if (problem.Status == 503) http.Response.Headers.RetryAfter = StoreUnavailable.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
    }

    public static ProblemDetails? Map(Exception exception) => exception switch
    {
        ApiProblem p => FromApiProblem(p),
        BadHttpRequestException { InnerException: JsonException json } => JsonProblem(json),
        BadHttpRequestException { StatusCode: 413 } => new ProblemDetails
        {
            Status = 413,
            Title = "Request body too large",
            Detail = "The request body exceeds the server's limit (1 MiB). Send less data, e.g. split a batch.",
        },
        BadHttpRequestException bad => new ProblemDetails
        {
            Status = bad.StatusCode,
            Title = "Bad request",
            Detail = Clean(bad.Message) + " Check the URL parameters and that the body is JSON with Content-Type: application/json.",
        },
        JsonException json => JsonProblem(json),
        DbUpdateConcurrencyException => new ProblemDetails
        {
            Status = 409,
            Title = "Conflict",
            Detail = "The resource changed while this request was being applied. Read it again and retry.",
        },
        OperationCanceledException => new ProblemDetails { Status = 499, Title = "Client closed request" },
        _ when StoreUnavailable.IsTransient(exception) => new ProblemDetails
        {
            Status = 503,
            Title = "Database unavailable",
            Detail = $"The server cannot reach its database right now (it may be restarting or busy). Retry in {StoreUnavailable.RetryAfterSeconds} seconds; " +
                     "if this was a change, read the resource first: it was applied only if the database confirmed it before the connection failed.",
        },
        _ => null,
    };

    private static ProblemDetails FromApiProblem(ApiProblem p)
    {
        var pd = new ProblemDetails { Status = p.Status, Title = p.Title, Detail = p.Detail };
        if (p.Errors is not null) pd.Extensions["errors"] = p.Errors;
        if (p.Extensions is not null)
            foreach (var (k, v) in p.Extensions) pd.Extensions[k] = v;
        return pd;
    }

    private static ProblemDetails JsonProblem(JsonException json)
    {
        var field = JsonPathToField(json.Path);
        var message = json.Message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal)
            ? "Unknown field. Remove it or check its spelling against the API (GET /openapi/v1.json)."
            : Clean(json.Message);
        var pd = new ProblemDetails
        {
            Status = 400,
            Title = "Malformed request body",
            Detail = field is null
                ? $"The body is not valid JSON for this request: {message}"
                : $"Field '{field}' is invalid: {message}",
        };
        if (field is not null) pd.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [message] };
        return pd;
    }

    // "$.tasks[1].priority" → "tasks[1].priority"
    private static string? JsonPathToField(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;

    // System.Text.Json messages mention .NET type names; keep the useful part.
    private static string Clean(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message)
            .Replace("System.Collections.Generic.", "", StringComparison.Ordinal)
            .Replace("Entourage.Client.Contracts.", "", StringComparison.Ordinal)
            .Replace("System.", "", StringComparison.Ordinal);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
