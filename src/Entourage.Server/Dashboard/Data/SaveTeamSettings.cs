using Entourage.Server.Features.Prompts;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Dashboard.Data;

/// <summary>
/// Saves the settings form of a team (limits, review and merge, role prompts) with the rules of
/// PATCH /settings/teams/{id}: every bad field listed at once, nothing changed on error.
/// </summary>
public static class SaveTeamSettings
{
    public static readonly string[] MergeStrategies = ["squash", "merge", "rebase"];
    private const int MaxCommandLength = 2000;

    public static async Task ExecuteAsync(AppDbContext db, Guid teamId, TeamSettingsModel s, DateTime now, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (s.DailyCostLimitUsd is < 0 || s.DailyCostLimitUsd is { } l && (double.IsNaN(l) || double.IsInfinity(l)))
            errors.Add("daily_cost_limit_usd", "Give a number of dollars ≥ 0, or leave empty for no limit.");
        if (s.MaxConcurrentAgents is < 1 or > 1000)
            errors.Add("max_concurrent_agents", "Give a whole number from 1 to 1000, or leave empty for no limit.");
        if (!MergeStrategies.Contains(s.MergeStrategy))
            errors.Add("merge_strategy", $"Use one of: {string.Join(", ", MergeStrategies)}.");
        if (s.CheckCommand is { Length: > MaxCommandLength }) errors.Add("check_command", $"At most {MaxCommandLength} characters.");
        if (s.SetupCommand is { Length: > MaxCommandLength }) errors.Add("setup_command", $"At most {MaxCommandLength} characters.");
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
        await db.SaveChangesAsync(ct);
    }

    // Same rules as PUT /teams/{id}/prompts/{role}: a template may only use the placeholders the renderer fills.
    private static void CheckPrompt(ValidationErrors errors, string field, string? template)
    {
        if (string.IsNullOrWhiteSpace(template)) return;
        if (template.Length > RolePrompts.MaxTemplateLength) errors.Add(field, $"At most {RolePrompts.MaxTemplateLength} characters.");
        var unknown = RolePrompts.UnknownPlaceholders(template);
        if (unknown.Count > 0)
            errors.Add(field, $"Unknown placeholder(s) {string.Join(", ", unknown.Select(u => "{{" + u + "}}"))}. " +
                $"Use only: {string.Join(", ", RolePrompts.Placeholders.Keys.Select(k => "{{" + k + "}}"))}.");
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
