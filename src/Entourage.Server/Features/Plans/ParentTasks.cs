using System.Text;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using Entourage.Server.Features.Reviews;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Plans;

/// <summary>
/// A task with children (a feature the manager decomposed) is done when all its children are (cancelled ones
/// do not count against it). When the last child settles, the manager gets a turn to summarise the feature (the
/// spec's t4), or to decide what to do about children that failed. Runs inside the status change's transaction.
/// </summary>
public static class ParentTasks
{
    public static async Task AfterChildSettledAsync(AppDbContext db, TaskItem child, TaskState to, Actor actor, DateTime now, CancellationToken ct)
    {
        if (child.ParentId is not { } parentId || !to.IsTerminal()) return;
        var children = await db.Tasks.Where(t => t.ParentId == parentId).OrderBy(t => t.Id)
            .Select(t => new { t.Id, t.Title, t.Status }).ToListAsync(ct);
        if (children.Any(c => !c.Status.IsTerminal())) return;
        var parent = await db.Tasks.FirstOrDefaultAsync(t => t.Id == parentId, ct);
        if (parent is null || parent.Status.IsTerminal()) return;

        var done = children.Count(c => c.Status == TaskState.Done);
        var failed = children.Where(c => c.Status == TaskState.Failed).ToList();
        var completed = failed.Count == 0 && done > 0;
        if (completed)
        {
            try
            {
                // The state machine has no todo → done edge: a feature nobody claimed passes through in_progress.
                if (parent.Status is TaskState.Todo) await ChangeTaskStatus.ApplyAsync(db, parent, TaskState.InProgress, actor, "all sub-tasks finished", now, ct);
                await ChangeTaskStatus.ApplyAsync(db, parent, TaskState.Done, actor, $"all {done} sub-task(s) done", now, ct);
            }
            catch (ApiProblem)
            {
                // The parent waits on dependencies of its own; it stays open and the manager decides.
                completed = false;
            }
        }

        var manager = await AgentLookup.ManagerOfAsync(db, parent.TeamId, ct);
        if (manager is null) return;
        var sb = new StringBuilder();
        sb.Append(completed
            ? $"All sub-tasks of #{parent.Id} (\"{parent.Title}\") are finished and it is now done:\n"
            : $"All sub-tasks of #{parent.Id} (\"{parent.Title}\") have settled, but not all succeeded, so it stays open:\n");
        foreach (var c in children) sb.Append($"  - #{c.Id} {c.Title}: {EnumNames.ToSnake(c.Status)}\n");
        sb.Append(completed
            ? "\nSummarise the feature for the team and the person who asked (what landed, anything left to follow up)."
            : "\nDecide: retry the failed tasks (status todo), replace them with new tasks, or mark the feature failed with the reason.");
        // A manager waiting on exactly these children learns of them from its wait: the summary goes to its inbox only.
        var wake = DagEffects.SettledWaitCovers(db, manager.Id, children.Select(c => c.Id).ToList(), now) ? (DispatchReason?)null : DispatchReason.Message;
        await AgentNotice.AddAsync(db, parent.TeamId, manager.Id, "entourage", parent.Id, sb.ToString(), wake, now, ct);
    }
}
