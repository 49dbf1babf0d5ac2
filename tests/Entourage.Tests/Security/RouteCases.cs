using System.Text;
using Entourage.Server.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Entourage.Tests.Security;

/// <summary>One request per (endpoint, method) the app maps, its path filled with ids of team A1's resources.</summary>
public sealed record RouteCase(string Method, string Path, string Key, RouteEndpoint Endpoint)
{
    public bool IsApi => Path.StartsWith("/api/", StringComparison.Ordinal);
    public bool IsMcp => Path.StartsWith("/mcp", StringComparison.Ordinal);
    public bool IsHealth => Path.StartsWith("/health", StringComparison.Ordinal);
    public bool IsOpenApi => Path.StartsWith("/openapi", StringComparison.Ordinal);

    public override string ToString() => $"{Method} {Path} ({Key})";

    /// <summary>Every route of the running app, read from its endpoint data sources: a new route is covered without editing any test.</summary>
    public static List<RouteCase> All(SecurityWorld world) =>
        world.Server.Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Where(m => m is not ("HEAD" or "OPTIONS"))
                .Select(m => new RouteCase(m, Fill(e.RoutePattern, world), RouteScopes.Key(m, e.RoutePattern), e)))
            .DistinctBy(c => (c.Method, c.Path))
            .OrderBy(c => c.Path, StringComparer.Ordinal).ThenBy(c => c.Method, StringComparer.Ordinal)
            .ToList();

    private static string Fill(RoutePattern pattern, SecurityWorld world)
    {
        var path = new StringBuilder();
        foreach (var segment in pattern.PathSegments)
        {
            path.Append('/');
            foreach (var part in segment.Parts)
            {
                path.Append(part switch
                {
                    RoutePatternLiteralPart l => l.Content,
                    RoutePatternSeparatorPart s => s.Content,
                    RoutePatternParameterPart p => Uri.EscapeDataString(Value(pattern, p, world)),
                    _ => "",
                });
            }
        }
        return path.Length == 0 ? "/" : path.ToString();
    }

    private static string Value(RoutePattern pattern, RoutePatternParameterPart p, SecurityWorld world)
    {
        var kind = RouteScopes.KindOf(pattern, p);
        if (kind is not (ResourceKind.None or ResourceKind.Unknown)) return world.VictimId(kind);
        if (p.Name == "role") return "engineer";
        if (p.Name == "documentName") return "v1";
        var constraints = string.Join(",", p.ParameterPolicies.Select(x => x.Content));
        if (constraints.Contains("int", StringComparison.Ordinal) || constraints.Contains("long", StringComparison.Ordinal)) return "1";
        if (constraints.Contains("guid", StringComparison.Ordinal)) return Guid.NewGuid().ToString();
        return "x";
    }

    /// <summary>A body every JSON endpoint can parse far enough; refusals come before binding anyway.</summary>
    public HttpRequestMessage Request(SecurityWorld world)
    {
        var request = new HttpRequestMessage(new HttpMethod(Method), Path);
        request.Headers.Accept.ParseAdd("application/json");
        if (IsMcp) request.Headers.Accept.ParseAdd("text/event-stream");
        if (Method is "POST" or "PUT" or "PATCH")
        {
            var body = Key == "POST /api/v1/tasks/wait" ? $$"""{"task_ids": [{{world.TaskA1}}], "timeout_seconds": 1}""" : "{}";
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        return request;
    }
}
