using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Commands.Tasks;

/// <summary>entourage task assign &lt;id&gt; &lt;agent|none&gt;</summary>
public sealed class TaskAssignCommand : EntourageCommand
{
    private readonly Argument<string> _task = new("task") { Description = "Task id." };
    private readonly Argument<string> _agent = new("agent") { Description = "Agent name or id in the task's team; \"none\" unassigns." };

    public TaskAssignCommand(CliEnvironment env) : base("assign", "Assign a task to an agent (a ready task starts at once).", env)
    {
        Arguments.Add(_task);
        Arguments.Add(_agent);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var agent = ctx.Get(_agent)!;
        var task = await ctx.Client.AssignTaskAsync(Resolve.TaskId(ctx.Get(_task)!),
            new AssignTaskRequest(agent.Equals("none", StringComparison.OrdinalIgnoreCase) ? null : agent), ct);
        if (ctx.Json) { ctx.WriteJson(task); return ExitCodes.Ok; }
        ctx.Out.MarkupLine(task.AssigneeName is null
            ? $"#{task.Id} {Styles.Esc(task.Title)} is unassigned."
            : $"#{task.Id} {Styles.Esc(task.Title)} → [bold]{Styles.Esc(task.AssigneeName)}[/] {TaskViews.Waiting(task)}");
        return ExitCodes.Ok;
    }
}
