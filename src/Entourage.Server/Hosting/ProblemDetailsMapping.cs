using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
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
        var problem = Map(exception, http);
        if (problem is null)
        {
            LogUnhandled(logger, exception, http.Request.Method, http.Request.Path);
            return false;
        }
        http.Response.StatusCode = problem.Status ?? 400;
        if (problem.Status == 503) http.Response.Headers.RetryAfter = StoreUnavailable.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
    }

    public static ProblemDetails? Map(Exception exception, HttpContext? http = null) => exception switch
    {
        ApiProblem p => FromApiProblem(p),
        BadHttpRequestException { InnerException: JsonException json } => JsonBodyProblem.Create(json, BodyType(http)),
        BadHttpRequestException { StatusCode: 413 } => new ProblemDetails { Status = 413, Title = "Request body too large", Detail = RequestProblems.TooLarge },
        BadHttpRequestException bad => RequestProblems.FromBadRequest(bad, http),
        JsonException json => JsonBodyProblem.Create(json, BodyType(http)),
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

    // The endpoint's JSON body type (minimal APIs declare it as accepts metadata), to name a bad field's expected type.
    private static Type? BodyType(HttpContext? http) => RequestProblems.EndpointOf(http)?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
