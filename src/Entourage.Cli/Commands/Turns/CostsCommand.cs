using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;

namespace Entourage.Cli.Commands.Turns;

/// <summary>entourage costs --team T — spend by agent, task and day (GET /teams/{id}/costs).</summary>
public sealed class CostsCommand : EntourageCommand
{
    private readonly System.CommandLine.Option<string?> _team = GlobalOptions.Team();

    public CostsCommand(CliEnvironment env) : base("costs", "Show what a team's agents have spent, by agent, task and day.", env)
    {
        Options.Add(_team);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var costs = await ctx.Client.GetTeamCostsAsync(ctx.RequireTeam(_team), ct);
        if (ctx.Json) { ctx.WriteJson(costs); return ExitCodes.Ok; }
        ctx.Out.Write(JsonViews.Object(costs));
        return ExitCodes.Ok;
    }
}
