using Entourage.Client.Contracts;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Agents;

/// <summary>
/// DELETE /agents/{agent_id}: refused while the agent runs a turn or when it is the manager. In one transaction its
/// pending work items die, its unfinished tasks lose their assignee (each with a timeline entry), a task it had in
/// progress goes back to todo (nobody would ever finish it otherwise), and every ready task it leaves without an
/// assignee wakes the manager to assign it (DESIGN §3). A task in review stays in review: its work is finished and
/// its review and merge go on without the engineer.
/// </summary>
public static class DeleteAgent
{
    public static async Task<NoContent> Handle(Guid agent_id, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var agent = await AgentLookup.FindAsync(db, agent_id, ct);
        if (agent.Role == AgentRole.Manager)
            throw ApiProblem.Conflict($"Agent '{agent.Name}' is the team's manager, and a team always keeps its manager. To change it, edit it with PATCH /api/v1/agents/{agent.Id} (name, model, adapter, config).");
        await using var tx = await TaskTransaction.BeginAsync(db, agent.TeamId, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        // Before the running-turn check: on PostgreSQL this waits for a claim holding these rows, so the check then
        // sees the turn that claim started; a later claim skips the rows while they are locked and finds them dead.
        await db.DispatchRequests.Where(r => r.AgentId == agent.Id && r.State == DispatchState.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.State, DispatchState.Dead).SetProperty(r => r.LastError, "agent deleted").SetProperty(r => r.UpdatedAt, now), ct);
        if (await db.Turns.AnyAsync(t => t.AgentId == agent.Id && t.State == TurnState.Running, ct))
            throw ApiProblem.Conflict($"Agent '{agent.Name}' is running a turn; cancel the turn or wait until it is idle, then delete it.");

        var actor = Actor.Human();
        var reason = $"agent '{agent.Name}' was deleted";
        var owned = await db.Tasks.Where(t => t.AssigneeId == agent.Id).ToListAsync(ct);
        foreach (var task in owned)
        {
            task.AssigneeId = null;
            task.UpdatedAt = now;
            if (task.Status.IsTerminal()) continue;
            TaskTimeline.Add(db, task.Id, task.TeamId, "unassigned", actor, now, data: new { PreviousAssigneeId = agent.Id, Reason = reason });
            // Its branch and worktree stay: whoever the manager gives it to next carries on from there.
            if (task.Status == TaskState.InProgress) await ChangeTaskStatus.ApplyAsync(db, task, TaskState.Todo, actor, reason, now, ct);
        }
        foreach (var task in owned.Where(t => t.Status == TaskState.Todo))
            await DagEffects.EnqueueIfReadyAsync(db, task, actor, now, toManagerIfUnassigned: true, ct);
        db.Agents.Remove(agent);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.NoContent();
    }
}
