using System.CommandLine;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Infrastructure;

/// <summary>Lets users name things the way they think of them: agents by name within a team, tasks by number.</summary>
public static class Resolve
{
    /// <summary>An agent by uuid, or by name within the team (--team, $ENTOURAGE_TEAM, config).</summary>
    public static async Task<AgentDto> AgentAsync(CommandContext ctx, string reference, Option<string?> teamOption, CancellationToken ct)
    {
        if (Guid.TryParse(reference, out var id)) return await ctx.Client.GetAgentAsync(id, ct);
        var team = ctx.RequireTeam(teamOption);
        var agents = await ctx.Client.ListAgentsAsync(team, ct);
        return agents.FirstOrDefault(a => string.Equals(a.Name, reference, StringComparison.Ordinal))
            ?? agents.FirstOrDefault(a => string.Equals(a.Name, reference, StringComparison.OrdinalIgnoreCase))
            ?? throw CliException.NotFound($"Team '{team}' has no agent named '{reference}'. Its agents: {string.Join(", ", agents.Select(a => a.Name))}.");
    }

    public static async Task<Guid> AgentIdAsync(CommandContext ctx, string reference, Option<string?> teamOption, CancellationToken ct) =>
        Guid.TryParse(reference, out var id) ? id : (await AgentAsync(ctx, reference, teamOption, ct)).Id;

    /// <summary>Task ids are integers; accept "#12" too, as the tables print them.</summary>
    public static long TaskId(string reference) =>
        long.TryParse(reference.TrimStart('#'), out var id) && id > 0
            ? id
            : throw CliException.Usage($"'{reference}' is not a task id. Task ids are positive integers, e.g. 12.");
}
