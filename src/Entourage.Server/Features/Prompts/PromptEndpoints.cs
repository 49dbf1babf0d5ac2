using Entourage.Client.Contracts;
using Entourage.Server.Features.Teams;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Entourage.Server.Features.Prompts;

/// <summary>Role prompt templates per team: read them, replace one, or go back to the default.</summary>
public static class PromptEndpoints
{
    private static readonly AgentRole[] Overridable = [AgentRole.Manager, AgentRole.Engineer];

    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("/teams/{team_id}/prompts").WithTags("Prompts");
        g.MapGet("/", List);
        g.MapGet("/{role}", Get);
        g.MapPut("/{role}", Set);
        g.MapDelete("/{role}", Reset);
    }

    private static async Task<Ok<List<RolePromptDto>>> List(string team_id, AppDbContext db, CancellationToken ct)
    {
        var team = await TeamEndpoints.FindAsync(db, team_id, ct);
        return TypedResults.Ok(Enum.GetValues<AgentRole>().Select(r => ToDto(team, r)).ToList());
    }

    private static async Task<Ok<RolePromptDto>> Get(string team_id, string role, AppDbContext db, CancellationToken ct)
    {
        var r = ParseRole(role, forWrite: false);
        return TypedResults.Ok(ToDto(await TeamEndpoints.FindAsync(db, team_id, ct), r));
    }

    private static async Task<Ok<RolePromptDto>> Set(string team_id, string role, SetRolePromptRequest body, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var r = ParseRole(role, forWrite: true);
        var team = await TeamEndpoints.FindAsync(db, team_id, ct);
        var errors = new ValidationErrors();
        if (string.IsNullOrWhiteSpace(body.Template))
            errors.Add("template", "Required: the prompt text. To go back to the default, DELETE this resource instead.");
        else
        {
            if (body.Template.Length > RolePrompts.MaxTemplateLength) errors.Add("template", $"At most {RolePrompts.MaxTemplateLength} characters.");
            var unknown = RolePrompts.UnknownPlaceholders(body.Template);
            if (unknown.Count > 0)
                errors.Add("template", $"Unknown placeholder(s) {string.Join(", ", unknown.Select(u => "{{" + u + "}}"))}. " +
                    $"Use only: {string.Join(", ", RolePrompts.Placeholders.Keys.Select(k => "{{" + k + "}}"))}.");
        }
        errors.ThrowIfAny();
        Apply(team, r, body.Template);
        team.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToDto(team, r));
    }

    private static async Task<Ok<RolePromptDto>> Reset(string team_id, string role, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var r = ParseRole(role, forWrite: true);
        var team = await TeamEndpoints.FindAsync(db, team_id, ct);
        Apply(team, r, null);
        team.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToDto(team, r));
    }

    private static void Apply(Team team, AgentRole role, string? template)
    {
        if (role == AgentRole.Manager) team.ManagerPrompt = template;
        else team.EngineerPrompt = template;
    }

    private static AgentRole ParseRole(string role, bool forWrite)
    {
        if (!EnumNames.TryParse<AgentRole>(role, out var r))
            throw new ApiProblem(404, "Role not found",
                $"No role '{role}'. Use one of: {string.Join(", ", Enum.GetValues<AgentRole>().Select(EnumNames.ToSnake))}.");
        if (forWrite && !Overridable.Contains(r))
            throw new ApiProblem(422, "Validation failed", $"The {EnumNames.ToSnake(r)} prompt cannot be overridden per team; only manager and engineer prompts can.",
                new Dictionary<string, string[]> { ["role"] = ["Use manager or engineer."] });
        return r;
    }

    private static RolePromptDto ToDto(Team team, AgentRole role)
    {
        var own = RolePrompts.OverrideFor(team, role);
        var def = RolePrompts.DefaultFor(role);
        return new RolePromptDto(role, own ?? def, own is null, def, RolePrompts.Placeholders);
    }
}
