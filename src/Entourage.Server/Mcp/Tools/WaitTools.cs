using System.ComponentModel;
using System.Text.Json;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace Entourage.Server.Mcp.Tools;

[McpServerToolType]
public sealed class WaitTools
{
    [McpServerTool(Name = "wait_for_task_completion", ReadOnly = true)]
    [Description("Blocks until every given task of your team is finished (done, cancelled or failed) or can never start " +
                 "(it waits on a failed or cancelled dependency), or until timeout_seconds. Returns each task's state; " +
                 "completed=false with timed_out=true means the timeout came first and the states are the current ones; " +
                 "never_start lists tasks that need a failed dependency retried (update_task_status to todo) or a re-plan. " +
                 "It reports progress while it waits. If your turn ends before the tasks finish, you are woken with the " +
                 "results when they do, so there is no need to poll or to call it again in a loop.")]
    public static async Task<WaitTasksResponse> WaitForTaskCompletion(McpCaller caller, AppDbContext db, TaskWaiter waiter, TimeProvider clock,
        IProgress<ProgressNotificationValue> progress,
        [Description("Ids of the tasks to wait for, e.g. the ids returned by create_tasks_batch.")] long[] task_ids,
        [Description("Give up waiting after this many seconds, from 0 to 3600 (the default); the tasks keep running.")] double? timeout_seconds = null,
        CancellationToken ct = default)
    {
        var ids = (task_ids ?? []).Distinct().ToList();
        // Checked before the wait is registered, so a refused call leaves no wake-up behind.
        var errors = new ValidationErrors();
        waiter.CheckTimeout(timeout_seconds, errors);
        errors.ThrowIfAny();
        // Registered before waiting: if this call is cut off (the CLI's own timeout, the turn ends), the last of
        // these tasks to settle wakes this agent with the results (DagEffects.CompleteSettledWaitsAsync).
        TaskWait? wait = null;
        if (ids.Count is > 0 and <= TaskWaiter.MaxTasks && await db.Tasks.CountAsync(t => ids.Contains(t.Id) && t.TeamId == caller.TeamId, ct) == ids.Count)
        {
            wait = new TaskWait { AgentId = caller.AgentId, TeamId = caller.TeamId, TaskIdsJson = JsonSerializer.Serialize(ids), CreatedAt = clock.GetUtcNow().UtcDateTime };
            db.TaskWaits.Add(wait);
            await db.SaveChangesAsync(ct);
        }

        var result = await waiter.WaitAsync(new WaitTasksRequest(ids, timeout_seconds), ct, (p, _) =>
        {
            progress.Report(new ProgressNotificationValue
            {
                Progress = p.Settled,
                Total = p.Total,
                Message = $"{p.Settled} of {p.Total} tasks finished after {p.ElapsedSeconds:0} s; " +
                          string.Join(", ", p.Tasks.Select(t => $"#{t.Id} {EnumNames.ToSnake(t.Status)}")),
            });
            return ValueTask.CompletedTask;
        }, caller.TeamId);

        if (wait is not null && !result.TimedOut) await SettleAsync(db, wait, clock, ct);
        return result;
    }

    /// <summary>The caller saw the results in this call: close the wait and drop its now-pointless wake-up.</summary>
    private static async Task SettleAsync(AppDbContext db, TaskWait wait, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var reference = wait.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await db.TaskWaits.Where(w => w.Id == wait.Id && w.CompletedAt == null).ExecuteUpdateAsync(s => s.SetProperty(w => w.CompletedAt, now), ct);
        await db.DispatchRequests
            .Where(r => r.AgentId == wait.AgentId && r.Reason == DispatchReason.WaitComplete && r.Ref == reference && r.State == DispatchState.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.State, DispatchState.Done).SetProperty(r => r.UpdatedAt, now), ct);
    }
}
