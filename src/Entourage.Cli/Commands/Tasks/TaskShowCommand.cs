using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;

namespace Entourage.Cli.Commands.Tasks;

/// <summary>entourage task show &lt;id&gt;</summary>
public sealed class TaskShowCommand : EntourageCommand
{
    private readonly Argument<string> _task = new("task") { Description = "Task id." };

    public TaskShowCommand(CliEnvironment env) : base("show", "Show a task: state, dependencies, what it waits for.", env)
    {
        Arguments.Add(_task);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var task = await ctx.Client.GetTaskAsync(Resolve.TaskId(ctx.Get(_task)!), ct);
        if (ctx.Json) { ctx.WriteJson(task); return ExitCodes.Ok; }
        ctx.Out.Write(TaskViews.Details(task));
        return ExitCodes.Ok;
    }
}
