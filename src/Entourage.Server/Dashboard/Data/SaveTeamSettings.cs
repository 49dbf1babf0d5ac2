using Entourage.Server.Features.Prompts;
using Entourage.Server.Features.Settings;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Dashboard.Data;

/// <summary>
/// Saves the settings form of a team (limits, review and merge, role prompts) with the rules of
/// PATCH /settings/teams/{id} (its limits and constants) and, for the role prompts, of PUT /teams/{id}/prompts/{role}:
/// every bad field listed at once, nothing changed on error.
/// </summary>
public static class SaveTeamSettings
{
    public static IReadOnlyList<string> MergeStrategies => TeamSettingsEndpoints.MergeStrategies;

    public static async Task ExecuteAsync(AppDbContext db, Guid teamId, TeamSettingsModel s, DateTime now, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (s.DailyCostLimitUsd is { } l && (double.IsNaN(l) || l < 0 || l > (double)TeamSettingsEndpoints.MaxDailyCostUsd))
            errors.Add("daily_cost_limit_usd", $"Give US dollars per UTC day from 0 to {TeamSettingsEndpoints.MaxDailyCostUsd}, or leave empty for no limit.");
        if (s.MaxConcurrentAgents is { } m && (m < 0 || m > TeamSettingsEndpoints.MaxConcurrentAgentsLimit))
            errors.Add("max_concurrent_agents", $"Give 0 (pause the team) to {TeamSettingsEndpoints.MaxConcurrentAgentsLimit}, or leave empty for no team limit.");
        if (!MergeStrategies.Contains(s.MergeStrategy))
            errors.Add("merge_strategy", $"Use one of: {string.Join(", ", MergeStrategies)}.");
        if (s.CheckCommand is { Length: > TeamSettingsEndpoints.MaxCommand }) errors.Add("check_command", $"At most {TeamSettingsEndpoints.MaxCommand} characters.");
        if (s.SetupCommand is { Length: > TeamSettingsEndpoints.MaxCommand }) errors.Add("setup_command", $"At most {TeamSettingsEndpoints.MaxCommand} characters.");
        CheckPrompt(errors, "manager_prompt", s.ManagerPrompt);
        CheckPrompt(errors, "engineer_prompt", s.EngineerPrompt);
        errors.ThrowIfAny();

        var team = await db.Teams.FirstOrDefaultAsync(t => t.Id == teamId, ct) ?? throw ApiProblem.NotFound("team", teamId);
        team.DailyCostLimitUsd = s.DailyCostLimitUsd;
        team.MaxConcurrentAgents = s.MaxConcurrentAgents;
        team.RequireReview = s.RequireReview;
        team.MergeStrategy = s.MergeStrategy;
        team.CheckCommand = Blank(s.CheckCommand);
        team.SetupCommand = Blank(s.SetupCommand);
        team.RequirePlanApproval = s.RequirePlanApproval;
        team.ManagerPrompt = Blank(s.ManagerPrompt);
        team.EngineerPrompt = Blank(s.EngineerPrompt);
        team.UpdatedAt = now;
        await Dispatch.BudgetGuard.ResolveIfUnderAsync(db, team, now, ct);
        await db.SaveChangesAsync(ct);
    }

    // Same rules as PUT /teams/{id}/prompts/{role}: a template may only use the placeholders the renderer fills.
    private static void CheckPrompt(ValidationErrors errors, string field, string? template)
    {
        if (string.IsNullOrWhiteSpace(template)) return;
        var max = Math.Min(RolePrompts.MaxTemplateLength, TeamSettingsEndpoints.MaxPrompt);
        if (template.Length > max) errors.Add(field, $"At most {max} characters.");
        var unknown = RolePrompts.UnknownPlaceholders(template);
        if (unknown.Count > 0)
            errors.Add(field, $"Unknown placeholder(s) {string.Join(", ", unknown.Select(u => "{{" + u + "}}"))}. " +
                $"Use only: {string.Join(", ", RolePrompts.Placeholders.Keys.Select(k => "{{" + k + "}}"))}.");
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
