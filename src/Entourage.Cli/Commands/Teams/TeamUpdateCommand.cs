using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Commands.Teams;

/// <summary>entourage team update [team] [--name] [--slug] [--repo] [--base-branch]</summary>
public sealed class TeamUpdateCommand : EntourageCommand
{
    private readonly Argument<string?> _team = new("team") { Description = "Team id or slug.", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<string?> _teamOption = GlobalOptions.Team();
    private readonly Option<string?> _name = new("--name") { Description = "New display name." };
    private readonly Option<string?> _slug = new("--slug") { Description = "New slug." };
    private readonly Option<string?> _description = new("--description", "-d") { Description = "New description." };
    private readonly Option<string?> _repo = new("--repo") { Description = "Local git repository (a relative path is resolved from here)." };
    private readonly Option<string?> _baseBranch = new("--base-branch") { Description = "Branch the team's work merges into." };

    public TeamUpdateCommand(CliEnvironment env) : base("update", "Change a team's name, slug, description, repository or base branch.", env)
    {
        Arguments.Add(_team);
        Options.Add(_teamOption);
        Options.Add(_name);
        Options.Add(_slug);
        Options.Add(_description);
        Options.Add(_repo);
        Options.Add(_baseBranch);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var repo = ctx.Get(_repo) is { } r ? Path.GetFullPath(r, ctx.Env.WorkingDirectory) : null;
        var team = await ctx.Client.UpdateTeamAsync(ctx.Get(_team) ?? ctx.RequireTeam(_teamOption),
            new UpdateTeamRequest(ctx.Get(_name), ctx.Get(_slug), ctx.Get(_description), repo, ctx.Get(_baseBranch)), ct);
        if (ctx.Json) { ctx.WriteJson(team); return ExitCodes.Ok; }
        ctx.Out.MarkupLine($"Updated team [bold]{Styles.Esc(team.Name)}[/] ({Styles.Esc(team.Slug)}).");
        ctx.Out.Write(TeamViews.Summary(team));
        return ExitCodes.Ok;
    }
}
