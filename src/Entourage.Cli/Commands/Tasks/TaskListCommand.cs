using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Commands.Tasks;

/// <summary>entourage task list --team T [--status] [--assignee] [--parent] [--ready]</summary>
public sealed class TaskListCommand : EntourageCommand
{
    private readonly Option<string?> _team = GlobalOptions.Team();
    private readonly Option<string?> _status = new("--status", "-s") { Description = "Only these states (comma-separated), e.g. todo,in_progress." };
    private readonly Option<string?> _assignee = new("--assignee", "-a") { Description = "Only this agent's tasks (name, id, or \"none\")." };
    private readonly Option<string?> _parent = new("--parent") { Description = "Only children of this task (or \"none\" for top-level)." };
    private readonly Option<bool> _ready = new("--ready") { Description = "Only tasks ready to start." };

    public TaskListCommand(CliEnvironment env) : base("list", "List a team's tasks.", env)
    {
        Aliases.Add("ls");
        Options.Add(_team);
        Options.Add(_status);
        Options.Add(_assignee);
        Options.Add(_parent);
        Options.Add(_ready);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var tasks = await ctx.Client.ListTasksAsync(ctx.RequireTeam(_team),
            new TaskListQuery(ctx.Get(_status), ctx.Get(_assignee), ctx.Get(_parent), ctx.Get(_ready) ? true : null), ct);
        if (ctx.Json) { ctx.WriteJson(tasks); return ExitCodes.Ok; }
        if (tasks.Count == 0) { ctx.Out.MarkupLine("No tasks match."); return ExitCodes.Ok; }
        ctx.Out.Write(TaskViews.Table(tasks));
        return ExitCodes.Ok;
    }
}
