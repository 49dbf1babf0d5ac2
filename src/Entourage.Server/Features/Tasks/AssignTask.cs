using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// POST /tasks/{task_id}/assign: sets (or clears, with null) the assignee. A todo task whose dependencies are
/// done becomes ready and is dispatched to its new assignee in the same transaction.
/// </summary>
public static class AssignTask
{
    public static async Task<TaskDto> ExecuteAsync(AppDbContext db, long taskId, string? assigneeRef, Actor actor, TimeProvider clock, CancellationToken ct)
    {
        var teamId = await TaskLoad.TeamOfAsync(db, taskId, ct);
        await using (var tx = await TaskTransaction.BeginAsync(db, teamId, ct))
        {
            var task = await TaskLoad.ForUpdateAsync(db, taskId, ct);
            Storage.Entities.Agent? agent = null;
            if (!string.IsNullOrWhiteSpace(assigneeRef))
            {
                var found = await AgentLookup.ResolveInTeamAsync(db, teamId, [assigneeRef], ct);
                if (!found.TryGetValue(assigneeRef.Trim(), out agent)) throw ApiProblem.Invalid("assignee_id", AgentLookup.UnknownMessage(assigneeRef));
            }
            if (task.AssigneeId == agent?.Id) return await TaskViews.GetAsync(db, taskId, ct);
            if (task.Status.IsTerminal())
                throw ApiProblem.Conflict($"Task {task.Id} is {EnumNames.ToSnake(task.Status)}; a finished task cannot be reassigned. Create a new task instead.");

            var now = clock.GetUtcNow().UtcDateTime;
            var previous = task.AssigneeId;
            task.AssigneeId = agent?.Id;
            task.UpdatedAt = now;
            TaskTimeline.Add(db, task.Id, teamId, agent is null ? "unassigned" : "assigned", actor, now,
                data: new { AssigneeId = agent?.Id, AssigneeName = agent?.Name, PreviousAssigneeId = previous });
            await db.SaveChangesAsync(ct);
            if (agent is not null) await DagEffects.EnqueueIfReadyAsync(db, task, actor, now, toManagerIfUnassigned: false, ct);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        return await TaskViews.GetAsync(db, taskId, ct);
    }
}
