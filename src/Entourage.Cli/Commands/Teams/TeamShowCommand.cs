using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;

namespace Entourage.Cli.Commands.Teams;

/// <summary>entourage team show [team] — the tree of the spec: team, manager, engineers with descriptions.</summary>
public sealed class TeamShowCommand : EntourageCommand
{
    private readonly Argument<string?> _team = new("team") { Description = "Team id or slug (default: --team, $ENTOURAGE_TEAM, config).", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<string?> _teamOption = GlobalOptions.Team();

    public TeamShowCommand(CliEnvironment env) : base("show", "Show a team: its agents as a tree, its repository and base branch.", env)
    {
        Arguments.Add(_team);
        Options.Add(_teamOption);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var team = await ctx.Client.GetTeamAsync(ctx.Get(_team) ?? ctx.RequireTeam(_teamOption), ct);
        if (ctx.Json) { ctx.WriteJson(team); return ExitCodes.Ok; }
        ctx.Out.Write(TeamViews.Tree(team));
        ctx.Out.WriteLine();
        ctx.Out.Write(TeamViews.Summary(team));
        return ExitCodes.Ok;
    }
}
