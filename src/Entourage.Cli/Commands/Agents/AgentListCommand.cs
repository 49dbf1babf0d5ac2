using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;

namespace Entourage.Cli.Commands.Agents;

/// <summary>entourage agent list --team T: status, role, active tasks, adapter (the spec's capacity check).</summary>
public sealed class AgentListCommand : EntourageCommand
{
    private readonly System.CommandLine.Option<string?> _team = GlobalOptions.Team();

    public AgentListCommand(CliEnvironment env) : base("list", "List a team's agents with their status and workload.", env)
    {
        Options.Add(_team);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var agents = await ctx.Client.ListAgentsAsync(ctx.RequireTeam(_team), ct);
        if (ctx.Json) { ctx.WriteJson(agents); return ExitCodes.Ok; }
        ctx.Out.Write(TeamViews.AgentTable(agents));
        return ExitCodes.Ok;
    }
}
