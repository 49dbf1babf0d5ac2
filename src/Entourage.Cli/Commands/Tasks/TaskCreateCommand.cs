using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Commands.Tasks;

/// <summary>entourage task create &lt;title&gt; --team T [-d] [--priority] [--type] [--assignee] [--depends-on] [--parent]</summary>
public sealed class TaskCreateCommand : EntourageCommand
{
    private readonly Argument<string> _title = new("title") { Description = "What to do, in a few words." };
    private readonly Option<string?> _team = GlobalOptions.Team();
    private readonly Option<string?> _description = new("--description", "-d") { Description = "Details, acceptance criteria." };
    private readonly Option<string?> _priority = new("--priority", "-p") { Description = "low, medium (default), high, critical." };
    private readonly Option<string?> _type = new("--type") { Description = "feature (default), bug, chore, test, docs, refactor." };
    private readonly Option<string?> _assignee = new("--assignee", "-a") { Description = "Agent name or id. Unassigned top-level tasks go to the manager." };
    private readonly Option<long[]> _dependsOn = new("--depends-on") { Description = "Task ids this one waits for (repeat or comma-separate).", AllowMultipleArgumentsPerToken = true, CustomParser = TaskIdList.Parse };
    private readonly Option<long?> _parent = new("--parent") { Description = "Parent task id (a feature this is part of)." };

    public TaskCreateCommand(CliEnvironment env) : base("create", "Create a task.", env)
    {
        Arguments.Add(_title);
        Options.Add(_team);
        Options.Add(_description);
        Options.Add(_priority);
        Options.Add(_type);
        Options.Add(_assignee);
        Options.Add(_dependsOn);
        Options.Add(_parent);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var deps = ctx.Get(_dependsOn);
        var task = await ctx.Client.CreateTaskAsync(ctx.RequireTeam(_team), new CreateTaskRequest(
            ctx.Get(_title), ctx.Get(_description), ctx.Get(_priority), ctx.Get(_type), ctx.Get(_assignee),
            deps is { Length: > 0 } ? deps : null, ctx.Get(_parent)), ct);
        if (ctx.Json) { ctx.WriteJson(task); return ExitCodes.Ok; }
        ctx.Out.MarkupLine($"Created task [bold]#{task.Id}[/] {Styles.Esc(task.Title)} ({Styles.TaskState(task.Status)}{(task.AssigneeName is null ? "" : ", " + Styles.Esc(task.AssigneeName))})");
        return ExitCodes.Ok;
    }
}
