using System.CommandLine;
using System.Globalization;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Commands.Tasks;

/// <summary>
/// entourage task wait &lt;ids…&gt; [--timeout] — blocks (server-side, no polling) until every task is terminal.
/// Exit 0 when all are done; 1 when any failed, was cancelled, can never start, or the timeout passed.
/// </summary>
public sealed class TaskWaitCommand : EntourageCommand
{
    private readonly Argument<long[]> _tasks = new("tasks") { Description = "Task ids.", Arity = ArgumentArity.OneOrMore, CustomParser = TaskIdList.Parse };
    private readonly Option<double?> _timeout = new("--timeout") { Description = "Seconds to wait at most (default: the server's maximum)." };

    public TaskWaitCommand(CliEnvironment env) : base("wait", "Wait until tasks finish (exit 0 only if all are done).", env)
    {
        Arguments.Add(_tasks);
        Options.Add(_timeout);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var ids = ctx.Get(_tasks)!;
        if (ctx.Get(_timeout) is < 0) throw CliException.Usage("--timeout must be zero or more seconds.");
        var result = await ctx.Client.WaitForTasksAsync(new WaitTasksRequest(ids, ctx.Get(_timeout)), ct);
        var allDone = result.Tasks.All(t => t.Status == TaskState.Done);
        if (ctx.Json) { ctx.WriteJson(result); return allDone ? ExitCodes.Ok : ExitCodes.Error; }

        var table = new Table().Border(TableBorder.Rounded).AddColumns("#", "Title", "Status", "");
        foreach (var t in result.Tasks)
            table.AddRow(t.Id.ToString(CultureInfo.InvariantCulture), Styles.Esc(t.Title), Styles.TaskState(t.Status),
                t.NeverStart ? $"[red]never starts: blocked by failed {TaskViews.Ids(t.BlockedByFailed)}[/]" : Styles.Esc(t.FailureReason ?? ""));
        ctx.Out.Write(table);
        ctx.Out.MarkupLine(result.TimedOut
            ? $"[yellow]Timed out[/] after {result.WaitedSeconds:0.#}s; the tasks go on."
            : allDone ? "[green]All done.[/]" : "[red]Finished, not all done.[/]");
        return allDone ? ExitCodes.Ok : ExitCodes.Error;
    }
}
