using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;
using Spectre.Console;

namespace Entourage.Cli.Commands.Init;

/// <summary>
/// entourage init — in a git repository: a team for it (repo_path = the repository, base branch = the current
/// branch), its manager and two engineers on the agent CLIs installed here, then what to do next.
/// </summary>
public sealed class InitCommand : EntourageCommand
{
    /// <summary>Executable on PATH → adapter name, in order of preference for the manager.</summary>
    internal static readonly (string Executable, string Adapter)[] KnownClis =
        [("claude", "claude-code"), ("codex", "codex"), ("gemini", "gemini"), ("aider", "aider")];

    private readonly Option<string?> _name = new("--name") { Description = "Team name (default: the repository's folder name)." };
    private readonly Option<string?> _slug = new("--slug") { Description = "Team slug (default: derived from the name)." };
    private readonly Option<int> _engineers = new("--engineers") { Description = "How many engineers to add.", DefaultValueFactory = _ => 2 };
    private readonly Option<string?> _adapter = new("--adapter") { Description = "Use this adapter for every agent instead of the CLIs found on PATH." };
    private readonly Option<string?> _org = GlobalOptions.Org();

    public InitCommand(CliEnvironment env) : base("init", "Set up a team for the git repository you are in.", env)
    {
        Options.Add(_name);
        Options.Add(_slug);
        Options.Add(_engineers);
        Options.Add(_adapter);
        Options.Add(_org);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var engineers = ctx.Get(_engineers);
        if (engineers is < 0 or > 20) throw CliException.Usage("--engineers must be between 0 and 20.");
        var repo = await Git.TopLevelAsync(ctx.Env.WorkingDirectory, ct)
            ?? throw CliException.Usage($"{ctx.Env.WorkingDirectory} is not inside a git repository. Run `git init` (and commit once), or cd into a repository.");
        var branch = await Git.CurrentBranchAsync(repo, ct)
            ?? throw CliException.Usage("HEAD is detached: check out the branch the team should merge into, then run init again.");

        var adapters = ctx.Get(_adapter) is { } forced
            ? [forced]
            : KnownClis.Where(c => ctx.Env.FindOnPath(c.Executable) is not null).Select(c => c.Adapter).ToList();
        var found = adapters.Count > 0;
        if (!found) adapters = ["claude-code"];

        var name = ctx.Get(_name) ?? Path.GetFileName(repo.TrimEnd(Path.DirectorySeparatorChar));
        var team = await ctx.Client.CreateTeamAsync(ctx.OrgOrDefault(_org), new CreateTeamRequest(
            name, ctx.Get(_slug), $"Works on {repo}", repo, branch, ManagerAdapter: adapters[0]), ct);
        var added = new List<AgentDto>();
        for (var i = 0; i < engineers; i++)
        {
            var adapter = adapters[i % adapters.Count];
            added.Add(await ctx.Client.CreateAgentAsync(team.Id.ToString(), new CreateAgentRequest(
                $"eng-{i + 1}", AgentRole.Engineer, Adapter: adapter,
                Config: new() { ["description"] = $"General engineer ({adapter}): implements well-scoped tasks with tests" }), ct));
        }
        team = await ctx.Client.GetTeamAsync(team.Id.ToString(), ct);

        if (ctx.Json)
        {
            ctx.WriteJson(new { team, repo_path = repo, base_branch = branch, adapters_found = found ? adapters : [] });
            return ExitCodes.Ok;
        }
        ctx.Out.MarkupLine($"Created team [bold]{Styles.Esc(team.Name)}[/] ([bold]{Styles.Esc(team.Slug)}[/]) for [bold]{Styles.Esc(repo)}[/] on branch [bold]{Styles.Esc(branch)}[/].");
        ctx.Out.Write(TeamViews.Tree(team));
        if (!found)
            ctx.Out.MarkupLine("[yellow]No agent CLI found on PATH[/] (claude, codex, gemini, aider). The agents use claude-code and stay offline until it is installed: [bold]npm install -g @anthropic-ai/claude-code[/].");
        else
            ctx.Out.MarkupLine($"Agent CLIs found: {Styles.Esc(string.Join(", ", adapters))}.");
        ctx.Out.WriteLine();
        ctx.Out.MarkupLine("Next:");
        ctx.Out.MarkupLine($"  [bold]export ENTOURAGE_TEAM={Styles.Esc(team.Slug)}[/]   so later commands need no --team");
        ctx.Out.MarkupLine($"  [bold]entourage run \"Add a /health endpoint\" --team {Styles.Esc(team.Slug)}[/]   give the manager a feature and watch it land");
        ctx.Out.MarkupLine($"  [bold]entourage team show {Styles.Esc(team.Slug)}[/]   see the team; [bold]entourage agent add[/] to add specialists");
        return ExitCodes.Ok;
    }
}
