using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Commands.Tasks;

/// <summary>entourage task status &lt;id&gt; &lt;status&gt; [--reason] — moves a task through the state machine.</summary>
public sealed class TaskStatusCommand : EntourageCommand
{
    private readonly Argument<string> _task = new("task") { Description = "Task id." };
    private readonly Argument<string> _status = new("status") { Description = "todo, in_progress, in_review, done, cancelled or failed." };
    private readonly Option<string?> _reason = new("--reason") { Description = "Why (kept in the timeline; the failure reason for failed)." };

    public TaskStatusCommand(CliEnvironment env) : base("status", "Change a task's status (illegal transitions exit 4 and name the allowed ones).", env)
    {
        Arguments.Add(_task);
        Arguments.Add(_status);
        Options.Add(_reason);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var id = Resolve.TaskId(ctx.Get(_task)!);
        var before = ctx.Json ? null : await ctx.Client.GetTaskAsync(id, ct);
        var task = await ctx.Client.ChangeTaskStatusAsync(id, new ChangeTaskStatusRequest(ctx.Get(_status), ctx.Get(_reason)), ct);
        if (ctx.Json) { ctx.WriteJson(task); return ExitCodes.Ok; }
        ctx.Out.MarkupLine($"#{task.Id} {Styles.Esc(task.Title)}: {Styles.TaskState(before!.Status)} → {Styles.TaskState(task.Status)}");
        return ExitCodes.Ok;
    }
}
