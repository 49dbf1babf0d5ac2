using Microsoft.AspNetCore.Routing.Patterns;

namespace Entourage.Server.Security;

/// <summary>What a route parameter names, so its owner (team, org) can be checked before the handler runs.</summary>
public enum ResourceKind { None, Org, Team, Agent, Task, Turn, Review, Plan, HumanRequest, ApiKey, Unknown }

/// <summary>How a route with no resource in its path is kept inside the caller's scope.</summary>
public enum UnscopedRule
{
    /// <summary>Not classified: refused to org keys and agents until someone decides (fail closed).</summary>
    Unknown,

    /// <summary>The handler filters by <see cref="RequestCaller"/> (lists across teams, the change stream, waits).</summary>
    HandlerFilters,

    /// <summary>Local or admin only (creating orgs: an org key belongs to exactly one org).</summary>
    AdminOnly,

    /// <summary>The runner protocol: a runner token only (the handler checks the node is that token's).</summary>
    RunnerOnly,
}

/// <summary>
/// The scope table of the REST API. Path parameters are classified by name ("team_id" …) or, for a bare "{id}",
/// by the collection segment before it; routes with no resource parameter must be listed in
/// <see cref="Unscoped"/>. The security tests enumerate every endpoint and fail on anything unclassified, so a
/// new route cannot silently skip the check.
/// </summary>
public static class RouteScopes
{
    private static readonly Dictionary<string, ResourceKind> ByName = new(StringComparer.Ordinal)
    {
        ["org_id"] = ResourceKind.Org,
        ["team_id"] = ResourceKind.Team,
        ["agent_id"] = ResourceKind.Agent,
        ["task_id"] = ResourceKind.Task,
        ["turn_id"] = ResourceKind.Turn,
        ["review_id"] = ResourceKind.Review,
        ["plan_id"] = ResourceKind.Plan,
        ["key_id"] = ResourceKind.ApiKey,
        ["request_id"] = ResourceKind.HumanRequest,
        // A role name ("manager", "engineer") picks one of the team's prompts; the team is in the path.
        ["role"] = ResourceKind.None,
        // Runner tokens belong to no org or team: their routes are admin only (listed in Unscoped).
        ["runner_token_id"] = ResourceKind.None,
    };

    private static readonly Dictionary<string, ResourceKind> ByCollection = new(StringComparer.Ordinal)
    {
        ["orgs"] = ResourceKind.Org,
        ["teams"] = ResourceKind.Team,
        ["agents"] = ResourceKind.Agent,
        ["tasks"] = ResourceKind.Task,
        ["turns"] = ResourceKind.Turn,
        ["reviews"] = ResourceKind.Review,
        ["plans"] = ResourceKind.Plan,
        ["human-requests"] = ResourceKind.HumanRequest,
        ["api-keys"] = ResourceKind.ApiKey,
    };

    /// <summary>Query parameters that name a resource, checked on every API route (team slugs are resolved in the caller's org).</summary>
    public static readonly IReadOnlyDictionary<string, ResourceKind> QueryParameters = new Dictionary<string, ResourceKind>(StringComparer.Ordinal)
    {
        ["team_id"] = ResourceKind.Team,
        ["agent_id"] = ResourceKind.Agent,
        ["task_id"] = ResourceKind.Task,
    };

    private static readonly Dictionary<string, UnscopedRule> Unscoped = new(StringComparer.Ordinal)
    {
        ["GET /api/v1/orgs"] = UnscopedRule.HandlerFilters,
        ["POST /api/v1/orgs"] = UnscopedRule.AdminOnly,
        ["GET /api/v1/human-requests"] = UnscopedRule.HandlerFilters,
        ["GET /api/v1/events/stream"] = UnscopedRule.HandlerFilters,
        ["POST /api/v1/tasks/wait"] = UnscopedRule.HandlerFilters,
        // The cluster's machines (hosts, every team's running turns): operators only, never an org key.
        ["GET /api/v1/nodes"] = UnscopedRule.AdminOnly,
        // Runner tokens run any org's agents (placement is by label, not org): the operator of the server mints them.
        ["POST /api/v1/runner-tokens"] = UnscopedRule.AdminOnly,
        ["GET /api/v1/runner-tokens"] = UnscopedRule.AdminOnly,
        ["DELETE /api/v1/runner-tokens/{runner_token_id}"] = UnscopedRule.AdminOnly,
        ["POST /api/v1/runner/register"] = UnscopedRule.RunnerOnly,
        ["POST /api/v1/runner/heartbeat"] = UnscopedRule.RunnerOnly,
        ["POST /api/v1/runner/claim"] = UnscopedRule.RunnerOnly,
        ["POST /api/v1/runner/stop"] = UnscopedRule.RunnerOnly,
    };

    /// <summary>
    /// The runner protocol (issue #10): the only routes a runner token may call, and only with one. Checked before
    /// any path parameter: a runner acts on turns of any team, limited to its own node's by the handlers.
    /// </summary>
    private static readonly HashSet<string> RunnerRoutes = new(StringComparer.Ordinal)
    {
        "POST /api/v1/runner/register",
        "POST /api/v1/runner/heartbeat",
        "POST /api/v1/runner/claim",
        "POST /api/v1/runner/stop",
        "POST /api/v1/runner/turns/{turn_id}/log",
        "POST /api/v1/runner/turns/{turn_id}/workspace",
        "POST /api/v1/runner/turns/{turn_id}/complete",
    };

    /// <summary>
    /// Operator actions an agent token may not take even inside its own team: minting or revoking credentials,
    /// changing budgets, agents and prompts, deciding its own reviews and plans, answering its own questions.
    /// </summary>
    private static readonly HashSet<string> OperatorOnly = new(StringComparer.Ordinal)
    {
        "POST /api/v1/agents/{agent_id}/token/rotate",
        "DELETE /api/v1/agents/{agent_id}/token",
        "POST /api/v1/teams/{team_id}/agents",
        "PATCH /api/v1/agents/{agent_id}",
        "DELETE /api/v1/agents/{agent_id}",
        "PATCH /api/v1/teams/{team_id}",
        "PATCH /api/v1/settings/teams/{team_id}",
        "PUT /api/v1/teams/{team_id}/prompts/{role}",
        "DELETE /api/v1/teams/{team_id}/prompts/{role}",
        "POST /api/v1/tasks/{task_id}/review",
        "POST /api/v1/reviews/{review_id}/approve",
        "POST /api/v1/reviews/{review_id}/request-changes",
        "POST /api/v1/tasks/{task_id}/merge",
        "POST /api/v1/plans/{plan_id}/approve",
        "POST /api/v1/plans/{plan_id}/reject",
        "POST /api/v1/human-requests/{id}/respond",
        "POST /api/v1/turns/{turn_id}/cancel",
    };

    /// <summary>The kind of resource a path parameter names.</summary>
    public static ResourceKind KindOf(RoutePattern pattern, RoutePatternParameterPart parameter)
    {
        if (ByName.TryGetValue(parameter.Name, out var byName)) return byName;
        string? collection = null;
        foreach (var segment in pattern.PathSegments)
        {
            if (segment.Parts.Contains(parameter)) break;
            if (segment.IsSimple && segment.Parts[0] is RoutePatternLiteralPart literal) collection = literal.Content;
        }
        return collection is not null && ByCollection.TryGetValue(collection, out var byCollection) ? byCollection : ResourceKind.Unknown;
    }

    /// <summary>"METHOD /path/{param}" with constraints and trailing slashes removed, as written in the tables.</summary>
    public static string Key(string method, RoutePattern pattern)
    {
        var parts = pattern.PathSegments.Select(s => string.Concat(s.Parts.Select(p => p switch
        {
            RoutePatternLiteralPart l => l.Content,
            RoutePatternParameterPart q => "{" + q.Name + "}",
            RoutePatternSeparatorPart sep => sep.Content,
            _ => "",
        })));
        return method + " /" + string.Join('/', parts);
    }

    public static UnscopedRule RuleFor(string key) => Unscoped.GetValueOrDefault(key, UnscopedRule.Unknown);

    public static bool IsOperatorOnly(string key) => OperatorOnly.Contains(key);

    public static bool IsRunnerRoute(string key) => RunnerRoutes.Contains(key);

    /// <summary>Every entry of the tables, so a test can tell a stale one (its route was renamed) from a live one.</summary>
    public static IEnumerable<string> AllListedKeys => Unscoped.Keys.Concat(OperatorOnly).Concat(RunnerRoutes);
}
