using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Entourage.Server.Hosting;

/// <summary>
/// The range a URL parameter of an endpoint accepts ("limit" from 1 to 1000), so a value that is not even a number
/// gets the same advice as one out of range. Attach with <see cref="RequestProblems.WithRange"/>.
/// </summary>
public sealed record ParameterRange(string Name, long Min, long Max);

/// <summary>
/// Rewords the answers ASP.NET Core gives before a handler runs (no body, a URL parameter of the wrong type, a wrong
/// method or media type): their own text names framework concepts ("Implicit body inferred… Did you mean to use a
/// Service instead?", "Nullable&lt;int&gt; limit") or is empty, so the client is told what was wrong and what to send.
/// </summary>
public static partial class RequestProblems
{
    public static TBuilder WithRange<TBuilder>(this TBuilder builder, string name, long min, long max) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ParameterRange(name, min, max));

    /// <summary>The endpoint that failed: the exception handler clears the request's own endpoint and route values before it runs.</summary>
    public static Endpoint? EndpointOf(HttpContext? http) => http?.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? http?.GetEndpoint();

    private static bool IsRouteValue(HttpContext? http, string name) =>
        (http?.Features.Get<IExceptionHandlerFeature>()?.RouteValues ?? http?.Request.RouteValues)?.ContainsKey(name) == true;

    public static ProblemDetails FromBadRequest(BadHttpRequestException bad, HttpContext? http)
    {
        if (bad.StatusCode == 415) return Problem(415, "Unsupported media type", DetailFor(415, null)!);
        if (MissingBody().IsMatch(bad.Message))
            return Problem(400, "Missing request body",
                "The request needs a JSON body with Content-Type: application/json, e.g. {\"title\": \"…\"}; GET /openapi/v1.json lists each request's fields.");
        if (BindFailed().Match(bad.Message) is { Success: true } m)
        {
            var name = m.Groups["name"].Value;
            var range = EndpointOf(http)?.Metadata.GetOrderedMetadata<ParameterRange>().FirstOrDefault(r => r.Name == name);
            var expected = range is not null ? $"a whole number from {range.Min} to {range.Max}" : Expected(m.Groups["type"].Value);
            var where = IsRouteValue(http, name) ? "in the URL path" : "in the query string";
            var message = $"Must be {expected}; got \"{m.Groups["value"].Value}\".";
            var pd = Problem(400, "Bad request", $"'{name}' {where} must be {expected}; got \"{m.Groups["value"].Value}\".");
            pd.Extensions["errors"] = new Dictionary<string, string[]> { [name] = [message] };
            return pd;
        }
        return Problem(bad.StatusCode, "Bad request",
            JsonBodyProblem.Clean(bad.Message) + ". Check the URL parameters and that the body is JSON with Content-Type: application/json.");
    }

    /// <summary>The detail for an answer the framework gave without one (status code pages: 405, 413, 415, 404).</summary>
    public static string? DetailFor(int status, HttpContext? http) => status switch
    {
        404 when http?.Request.Path.StartsWithSegments("/api") == true => "Nothing is at this URL. Check the path against GET /openapi/v1.json (every API path starts with /api/v1/).",
        405 when http is not null => http.Response.Headers.Allow is { Count: > 0 } allow
            ? $"{http.Request.Method} is not allowed here. Allowed methods: {string.Join(", ", allow.ToArray())}."
            : $"{http.Request.Method} is not allowed here; see GET /openapi/v1.json for this path's methods.",
        413 => TooLarge,
        415 => "Send the body as JSON with Content-Type: application/json.",
        _ => null,
    };

    public const string TooLarge = "The request body exceeds the server's limit (1 MiB). Send less data, e.g. split a batch.";

    private static ProblemDetails Problem(int status, string title, string detail) => new() { Status = status, Title = title, Detail = detail };

    // The parameter's C# type as the framework prints it: "Nullable<int>", "long", "Guid"…
    private static string Expected(string type) => type.Replace("Nullable<", "", StringComparison.Ordinal).TrimEnd('>') switch
    {
        "int" or "long" or "short" or "Int32" or "Int64" => "a whole number",
        "double" or "decimal" or "float" or "Double" or "Decimal" => "a number",
        "bool" or "Boolean" => "true or false",
        "Guid" => "a uuid, e.g. 0196f2c4-7d1e-7c3a-9f5b-2a8e4d6c1b3f",
        "DateTime" or "DateTimeOffset" => "an ISO-8601 UTC time, e.g. 2025-01-31T12:00:00Z",
        _ => "a valid value",
    };

    // "Implicit body inferred for parameter "body" but no body was provided…" and "Required parameter "X body" was not provided from body."
    [GeneratedRegex("^(Implicit body inferred for parameter .* but no body was provided|Required parameter \".*\" was not provided from body)")]
    private static partial Regex MissingBody();

    // Failed to bind parameter "Nullable<int> limit" from "abc".
    [GeneratedRegex("^Failed to bind parameter \"(?<type>\\S+) (?<name>[^\"]+)\" from \"(?<value>.*)\"\\.$", RegexOptions.Singleline)]
    private static partial Regex BindFailed();
}
