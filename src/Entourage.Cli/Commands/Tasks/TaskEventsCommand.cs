using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;

namespace Entourage.Cli.Commands.Tasks;

/// <summary>entourage task events &lt;id&gt; — the timeline: every transition, assignment, message, turn.</summary>
public sealed class TaskEventsCommand : EntourageCommand
{
    private readonly Argument<string> _task = new("task") { Description = "Task id." };

    public TaskEventsCommand(CliEnvironment env) : base("events", "Show a task's timeline.", env)
    {
        Arguments.Add(_task);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var events = await ctx.Client.GetTaskEventsAsync(Resolve.TaskId(ctx.Get(_task)!), ct);
        if (ctx.Json) { ctx.WriteJson(events); return ExitCodes.Ok; }
        ctx.Out.Write(TaskViews.Timeline(events));
        return ExitCodes.Ok;
    }
}
