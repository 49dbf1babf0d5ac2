using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;

namespace Entourage.Cli.Commands.Teams;

/// <summary>entourage team list [--org]</summary>
public sealed class TeamListCommand : EntourageCommand
{
    private readonly System.CommandLine.Option<string?> _org = GlobalOptions.Org();

    public TeamListCommand(CliEnvironment env) : base("list", "List the teams of an org.", env)
    {
        Options.Add(_org);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var teams = await ctx.Client.ListTeamsAsync(ctx.OrgOrDefault(_org), ct);
        if (ctx.Json) { ctx.WriteJson(teams); return ExitCodes.Ok; }
        if (teams.Count == 0)
        {
            ctx.Out.MarkupLine("No teams yet. Create one with [bold]entourage team create <name>[/], or run [bold]entourage init[/] in a git repository.");
            return ExitCodes.Ok;
        }
        ctx.Out.Write(TeamViews.TeamTable(teams));
        return ExitCodes.Ok;
    }
}
