using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;
using Spectre.Console;

namespace Entourage.Cli.Commands.Teams;

/// <summary>entourage team create &lt;name&gt; [--slug] [--repo] [--base-branch] — the manager comes with it.</summary>
public sealed class TeamCreateCommand : EntourageCommand
{
    private readonly Argument<string> _name = new("name") { Description = "Display name, e.g. Platform." };
    private readonly Option<string?> _slug = new("--slug") { Description = "URL-safe id (default: derived from the name)." };
    private readonly Option<string?> _description = new("--description", "-d") { Description = "What the team works on." };
    private readonly Option<string?> _repo = new("--repo") { Description = "Local git repository the team works in (a relative path is resolved from here)." };
    private readonly Option<string?> _baseBranch = new("--base-branch") { Description = "Branch the team's work merges into (default: the repository's current branch)." };
    private readonly Option<string?> _managerModel = new("--manager-model") { Description = "Model of the manager agent." };
    private readonly Option<string?> _managerAdapter = new("--manager-adapter") { Description = "Agent CLI of the manager: claude-code, codex, gemini, aider, command." };
    private readonly Option<string?> _org = GlobalOptions.Org();

    public TeamCreateCommand(CliEnvironment env) : base("create", "Create a team; its manager agent is created with it.", env)
    {
        Arguments.Add(_name);
        Options.Add(_slug);
        Options.Add(_description);
        Options.Add(_repo);
        Options.Add(_baseBranch);
        Options.Add(_managerModel);
        Options.Add(_managerAdapter);
        Options.Add(_org);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var repo = ctx.Get(_repo) is { } r ? Path.GetFullPath(r, ctx.Env.WorkingDirectory) : null;
        var team = await ctx.Client.CreateTeamAsync(ctx.OrgOrDefault(_org), new CreateTeamRequest(
            ctx.Get(_name), ctx.Get(_slug), ctx.Get(_description), repo, ctx.Get(_baseBranch),
            ctx.Get(_managerModel), ctx.Get(_managerAdapter)), ct);
        if (ctx.Json) { ctx.WriteJson(team); return ExitCodes.Ok; }
        ctx.Out.MarkupLine($"Created team [bold]{Styles.Esc(team.Name)}[/] ([bold]{Styles.Esc(team.Slug)}[/]) [dim]{team.Id}[/]");
        ctx.Out.Write(TeamViews.Tree(team));
        if (team.Manager?.Token is { } token)
            ctx.Out.MarkupLine($"Manager token (shown once): [dim]{Styles.Esc(token)}[/]");
        ctx.Out.MarkupLine($"Next: [bold]entourage agent add eng-1 --team {Styles.Esc(team.Slug)} --description \"...\"[/]");
        return ExitCodes.Ok;
    }
}
