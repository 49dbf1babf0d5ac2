using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Primitives;

namespace Entourage.Server.Security;

/// <summary>
/// Keeps an org key inside its org and an agent token inside its team, before any handler runs: every resource
/// named in the path or in team_id/agent_id/task_id query parameters is looked up, and one outside the caller's
/// scope gets the same 404 as one that does not exist (no probing for ids of other orgs). Team slugs are
/// resolved within the caller's org and replaced by the team's uuid, so a handler that looks slugs up globally
/// can never land on another org's team of the same name.
/// </summary>
public static class ScopeCheck
{
    public static async Task<IResult?> CheckAsync(HttpContext http, RequestCaller caller, AppDbContext db, CancellationToken ct)
    {
        if (caller.Unrestricted) return null;
        var path = http.Request.Path;
        if (caller.Kind == CallerKind.Runner)
        {
            // A runner token is the runner protocol and nothing else: no API, no dashboard, no OpenAPI.
            var route = http.GetEndpoint() is RouteEndpoint re ? RouteScopes.Key(http.Request.Method, re.RoutePattern) : null;
            return route is not null && RouteScopes.IsRunnerRoute(route)
                ? null
                : Refusals.Forbidden($"A runner token only runs the runner protocol (POST /api/v1/runner/…); {route ?? http.Request.Method + " " + path} needs an org API key or the admin key.");
        }
        if (path.StartsWithSegments("/openapi")) return null;
        if (!path.StartsWithSegments("/api"))
            return Refusals.Forbidden("The dashboard shows every org, so it needs the admin key (sign in at /login). Org API keys and agent tokens work on /api/v1 and /mcp.");
        if (http.GetEndpoint() is not RouteEndpoint endpoint) return null; // no such route: 404 follows, nothing is reached

        var key = RouteScopes.Key(http.Request.Method, endpoint.RoutePattern);
        if (RouteScopes.IsRunnerRoute(key))
            return Refusals.Forbidden($"{key} is the runner protocol: it takes a runner token (minted with POST /api/v1/runner-tokens by the server's admin; `entourage runner --runner-token …`).");
        if (caller.Kind == CallerKind.Agent && RouteScopes.IsOperatorOnly(key))
            return Refusals.Forbidden($"Agent tokens cannot call {key}: it is an operator action. Use an org API key (POST /api/v1/orgs/{{org_id}}/api-keys with the admin key).");

        var scoped = false;
        foreach (var parameter in endpoint.RoutePattern.Parameters)
        {
            var kind = RouteScopes.KindOf(endpoint.RoutePattern, parameter);
            if (kind == ResourceKind.None) continue;
            if (kind == ResourceKind.Unknown)
                return Refusals.Forbidden($"{key} is not open to org keys or agent tokens yet (its '{parameter.Name}' parameter has no scope rule); use the admin key.");
            var value = http.Request.RouteValues[parameter.Name]?.ToString() ?? "";
            var (refusal, teamUuid) = await CheckAsync(kind, value, caller, db, ct);
            if (refusal is not null) return refusal;
            if (teamUuid is not null) http.Request.RouteValues[parameter.Name] = teamUuid;
            scoped = true;
        }
        if (!scoped)
        {
            switch (RouteScopes.RuleFor(key))
            {
                case UnscopedRule.HandlerFilters: break;
                case UnscopedRule.AdminOnly:
                    return Refusals.Forbidden($"{key} needs the admin key: an org API key belongs to exactly one org.");
                default:
                    return Refusals.Forbidden($"{key} is not open to org keys or agent tokens yet (no scope rule); use the admin key.");
            }
        }
        return await CheckQueryAsync(http, caller, db, ct);
    }

    private static async Task<IResult?> CheckQueryAsync(HttpContext http, RequestCaller caller, AppDbContext db, CancellationToken ct)
    {
        Dictionary<string, StringValues>? rewritten = null;
        foreach (var (name, kind) in RouteScopes.QueryParameters)
        {
            var value = http.Request.Query[name];
            if (value.Count != 1 || string.IsNullOrWhiteSpace(value[0])) continue; // absent or malformed: the handler answers
            var (refusal, teamUuid) = await CheckAsync(kind, value[0]!.Trim(), caller, db, ct);
            if (refusal is not null) return refusal;
            if (teamUuid is not null)
            {
                rewritten ??= http.Request.Query.ToDictionary(q => q.Key, q => q.Value, StringComparer.Ordinal);
                rewritten[name] = teamUuid;
            }
        }
        if (rewritten is not null) http.Features.Set<IQueryFeature>(new QueryFeature(new QueryCollection(rewritten)));
        return null;
    }

    /// <summary>A refusal, or null with (for a team given by slug) the team's uuid to put in its place.</summary>
    private static async Task<(IResult? Refusal, string? TeamUuid)> CheckAsync(ResourceKind kind, string value, RequestCaller caller, AppDbContext db, CancellationToken ct)
    {
        switch (kind)
        {
            case ResourceKind.Org:
            {
                if (caller.Kind == CallerKind.Agent)
                    return (Refusals.Forbidden("Agent tokens act inside their own team; org-level routes need an org API key."), null);
                var orgId = Guid.TryParse(value, out var g)
                    ? await db.Orgs.Where(o => o.Id == g).Select(o => (Guid?)o.Id).FirstOrDefaultAsync(ct)
                    : await db.Orgs.Where(o => o.Slug == value).Select(o => (Guid?)o.Id).FirstOrDefaultAsync(ct);
                return (orgId is { } o && caller.CanSeeOrg(o) ? null : Refusals.NotFound("org", value), null);
            }
            case ResourceKind.ApiKey:
            {
                if (caller.Kind == CallerKind.Agent)
                    return (Refusals.Forbidden("Agent tokens cannot manage API keys."), null);
                var orgId = Guid.TryParse(value, out var g) ? await db.ApiKeys.Where(k => k.Id == g).Select(k => (Guid?)k.OrgId).FirstOrDefaultAsync(ct) : null;
                return (orgId is { } o && caller.CanSeeOrg(o) ? null : Refusals.NotFound("API key", value), null);
            }
            case ResourceKind.Team:
            {
                var team = Guid.TryParse(value, out var g)
                    ? await db.Teams.Where(t => t.Id == g).Select(t => new { t.Id, t.OrgId }).FirstOrDefaultAsync(ct)
                    // A slug is unique only within an org: look it up in the caller's.
                    : await db.Teams.Where(t => t.Slug == value && t.OrgId == caller.OrgId).OrderBy(t => t.CreatedAt).Select(t => new { t.Id, t.OrgId }).FirstOrDefaultAsync(ct);
                if (team is null || !caller.CanSeeTeam(team.Id, team.OrgId)) return (Refusals.NotFound("team", value), null);
                return (null, team.Id.ToString());
            }
            default:
            {
                var teamId = await TeamOfAsync(kind, value, db, ct);
                var orgId = teamId is { } t ? await db.Teams.Where(x => x.Id == t).Select(x => (Guid?)x.OrgId).FirstOrDefaultAsync(ct) : null;
                return (teamId is { } team && orgId is { } org && caller.CanSeeTeam(team, org) ? null : Refusals.NotFound(Name(kind), value), null);
            }
        }
    }

    private static async Task<Guid?> TeamOfAsync(ResourceKind kind, string value, AppDbContext db, CancellationToken ct)
    {
        var asGuid = Guid.TryParse(value, out var g) ? g : (Guid?)null;
        var asLong = long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var l) ? l : (long?)null;
        return kind switch
        {
            ResourceKind.Agent when asGuid is not null => await db.Agents.Where(a => a.Id == g).Select(a => (Guid?)a.TeamId).FirstOrDefaultAsync(ct),
            ResourceKind.Turn when asGuid is not null => await db.Turns.Where(a => a.Id == g).Select(a => (Guid?)a.TeamId).FirstOrDefaultAsync(ct),
            ResourceKind.Task when asLong is not null => await db.Tasks.Where(a => a.Id == l).Select(a => (Guid?)a.TeamId).FirstOrDefaultAsync(ct),
            ResourceKind.Review when asLong is not null => await db.Reviews.Where(a => a.Id == l).Select(a => (Guid?)a.TeamId).FirstOrDefaultAsync(ct),
            ResourceKind.Plan when asLong is not null => await db.Plans.Where(a => a.Id == l).Select(a => (Guid?)a.TeamId).FirstOrDefaultAsync(ct),
            ResourceKind.HumanRequest when asLong is not null => await db.HumanRequests.Where(a => a.Id == l).Select(a => (Guid?)a.TeamId).FirstOrDefaultAsync(ct),
            _ => null,
        };
    }

    private static string Name(ResourceKind kind) => kind switch
    {
        ResourceKind.HumanRequest => "human request",
        _ => kind.ToString().ToLowerInvariant(),
    };
}

/// <summary>The guard's RFC 9457 answers.</summary>
public static class Refusals
{
    public static IResult Unauthorized(string detail) =>
        Results.Problem(statusCode: 401, title: "Unauthorized", detail: detail);

    public static IResult Forbidden(string detail) =>
        Results.Problem(statusCode: 403, title: "Forbidden", detail: detail);

    /// <summary>The same answer as for an id that does not exist (ApiProblem.NotFound's wording).</summary>
    public static IResult NotFound(string what, string id)
    {
        var p = ApiProblem.NotFound(what, id);
        return Results.Problem(statusCode: 404, title: p.Title, detail: p.Detail);
    }
}
