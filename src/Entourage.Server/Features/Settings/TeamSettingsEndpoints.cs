using System.Text.Json;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Teams;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Entourage.Server.Features.Settings;

/// <summary>
/// GET/PATCH /settings/teams/{team_id}: limits and policies the dispatcher enforces. PATCH reads the raw object
/// so an explicit null ("daily_cost_limit_usd": null → unlimited) differs from an absent field (unchanged).
/// </summary>
public static class TeamSettingsEndpoints
{
    public const decimal MaxDailyCostUsd = 1_000_000m;
    public const int MaxConcurrentAgentsLimit = 1000;
    public const int MaxCommand = 4000;
    public const int MaxPrompt = 20_000;
    public static readonly string[] MergeStrategies = ["squash", "merge", "rebase"];
    private static readonly string CostRange = $"Give US dollars per UTC day from 0 to {MaxDailyCostUsd}, or null for no limit.";
    private static readonly string AgentsRange = $"Give 0 (pause the team) to {MaxConcurrentAgentsLimit}, or null for no team limit.";

    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("/settings/teams").WithTags("Settings").WithProblems();
        g.MapGet("/{team_id}", Get).WithSummary("A team's settings: daily_cost_limit_usd, max_concurrent_agents, review and merge policy.");
        g.MapPatch("/{team_id}", Patch).Accepts<UpdateTeamSettingsRequest>("application/json")
            .WithSummary("Change settings; only the fields present change, null clears a limit.");
    }

    private static async Task<Ok<TeamSettingsDto>> Get(string team_id, AppDbContext db, CancellationToken ct) =>
        TypedResults.Ok(ToDto(await TeamEndpoints.FindAsync(db, team_id, ct)));

    private static async Task<Ok<TeamSettingsDto>> Patch(string team_id, HttpRequest http, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var team = await TeamEndpoints.FindAsync(db, team_id, ct);
        var body = await ReadObjectAsync(http, ct);
        var request = Parse(body);
        var errors = new ValidationErrors();
        if (request.DailyCostLimitUsd is { } cost && (cost < 0 || cost > MaxDailyCostUsd))
            errors.Add("daily_cost_limit_usd", CostRange);
        if (request.MaxConcurrentAgents is { } max && (max < 0 || max > MaxConcurrentAgentsLimit))
            errors.Add("max_concurrent_agents", AgentsRange);
        if (request.MergeStrategy is { } ms && !MergeStrategies.Contains(ms))
            errors.Add("merge_strategy", $"Use one of: {string.Join(", ", MergeStrategies)}.");
        if (request.CheckCommand is { Length: > MaxCommand }) errors.Add("check_command", $"At most {MaxCommand} characters.");
        if (request.SetupCommand is { Length: > MaxCommand }) errors.Add("setup_command", $"At most {MaxCommand} characters.");
        if (request.ManagerPrompt is { Length: > MaxPrompt }) errors.Add("manager_prompt", $"At most {MaxPrompt} characters.");
        if (request.EngineerPrompt is { Length: > MaxPrompt }) errors.Add("engineer_prompt", $"At most {MaxPrompt} characters.");
        var labels = Runners.NodeLabels.Normalize(request.RunnerLabels, errors, "runner_labels");
        foreach (var notNull in new[] { "require_review", "require_plan_approval", "merge_strategy" })
            if (body.TryGetPropertyValue(notNull, out var v) && v is null) errors.Add(notNull, "Cannot be null; omit it to keep the current value.");
        errors.ThrowIfAny();

        bool Has(string name) => body.ContainsKey(name);
        if (Has("daily_cost_limit_usd")) team.DailyCostLimitUsd = request.DailyCostLimitUsd is { } c ? (double)c : null;
        if (Has("max_concurrent_agents")) team.MaxConcurrentAgents = request.MaxConcurrentAgents;
        if (request.RequireReview is { } rr) team.RequireReview = rr;
        if (request.MergeStrategy is { } strategy) team.MergeStrategy = strategy;
        if (Has("check_command")) team.CheckCommand = Blank(request.CheckCommand);
        if (Has("setup_command")) team.SetupCommand = Blank(request.SetupCommand);
        if (request.RequirePlanApproval is { } pa) team.RequirePlanApproval = pa;
        if (Has("manager_prompt")) team.ManagerPrompt = Blank(request.ManagerPrompt);
        if (Has("engineer_prompt")) team.EngineerPrompt = Blank(request.EngineerPrompt);
        if (Has("runner_labels")) team.RunnerLabels = labels;
        team.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        if (Has("daily_cost_limit_usd")) await Dispatch.BudgetGuard.ResolveIfUnderAsync(db, team, team.UpdatedAt, ct);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToDto(team));
    }

    // Read by hand (not bound) so that OpenAPI documents UpdateTeamSettingsRequest while presence stays visible.
    private static async Task<JsonObject> ReadObjectAsync(HttpRequest http, CancellationToken ct)
    {
        if (!http.HasJsonContentType())
            throw new ApiProblem(415, "Unsupported media type", "Send the settings as JSON with Content-Type: application/json.");
        try
        {
            // The API's depth limit applies here too: deeper than Parse can re-read is a 400, not a 500.
            var limits = new JsonDocumentOptions { MaxDepth = JsonDefaults.Options.MaxDepth };
            return await JsonNode.ParseAsync(http.Body, documentOptions: limits, cancellationToken: ct) as JsonObject
                ?? throw ApiProblem.BadRequest("The body must be a JSON object, e.g. {\"max_concurrent_agents\": 3}.");
        }
        catch (JsonException e)
        {
            throw ApiProblem.BadRequest($"The body is not valid JSON: {e.Message.Split(" Path:")[0]}");
        }
    }

    /// <summary>Binds with the API's JSON rules (unknown fields rejected, numbers as strings allowed).</summary>
    private static UpdateTeamSettingsRequest Parse(JsonObject body)
    {
        try
        {
            return body.Deserialize<UpdateTeamSettingsRequest>(JsonDefaults.Options) ?? new UpdateTeamSettingsRequest();
        }
        catch (JsonException e)
        {
            throw ProblemFromJson(e, body);
        }
        catch (InvalidOperationException)
        {
            // The parsed tree keeps strings escaped; an unpaired surrogate escape (\ud800) only fails when it is
            // unescaped here, as InvalidOperationException rather than JsonException.
            throw ApiProblem.BadRequest("A string in the body is not valid Unicode: it has an unpaired surrogate escape such as \\ud800. Send valid UTF-16 text.");
        }
    }

    private static Exception ProblemFromJson(JsonException e, JsonObject body)
    {
        var field = JsonBodyProblem.FieldOf(e.Path);
        // A number too big for its field's type (1e308) is the same mistake as one over the limit (1e12): same 422.
        if (field is not null && body[field] is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            if (field == "daily_cost_limit_usd") return ApiProblem.Invalid(field, CostRange);
            if (field == "max_concurrent_agents") return ApiProblem.Invalid(field, AgentsRange);
        }
        var unknown = e.Message.Contains("could not be mapped", StringComparison.Ordinal);
        var message = unknown
            ? "Unknown field. Settings are: daily_cost_limit_usd, max_concurrent_agents, require_review, merge_strategy, check_command, setup_command, require_plan_approval, manager_prompt, engineer_prompt, runner_labels."
            : e is RefusedJsonValueException refused ? refused.Fix
            : JsonBodyProblem.TargetType(typeof(UpdateTeamSettingsRequest), e.Path) is { } type ? $"Must be {JsonBodyProblem.Expected(type)}."
            : "Wrong type for this field.";
        return field is null ? ApiProblem.BadRequest(message) : ApiProblem.BadRequest($"Field '{field}' is invalid: {message}", new Dictionary<string, string[]> { [field] = [message] });
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    public static TeamSettingsDto ToDto(Team t) => new(t.Id, t.DailyCostLimitUsd is { } d ? (decimal)d : null, t.MaxConcurrentAgents,
        t.RequireReview, t.MergeStrategy, t.CheckCommand, t.SetupCommand, t.RequirePlanApproval, t.ManagerPrompt, t.EngineerPrompt,
        Runners.NodeLabels.Parse(t.RunnerLabels), t.UpdatedAt);
}
