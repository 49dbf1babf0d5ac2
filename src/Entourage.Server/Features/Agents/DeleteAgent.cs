using Entourage.Client.Contracts;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Agents;

/// <summary>
/// DELETE /agents/{agent_id}: refused while the agent runs a turn or when it is the manager. Its open tasks become
/// unassigned (recorded in their timelines) and its pending work items are dropped, in one transaction.
/// </summary>
public static class DeleteAgent
{
    public static async Task<NoContent> Handle(Guid agent_id, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var agent = await AgentLookup.FindAsync(db, agent_id, ct);
        if (agent.Role == AgentRole.Manager)
            throw ApiProblem.Conflict($"Agent '{agent.Name}' is the team's manager, and a team always keeps its manager. To change it, edit it with PATCH /api/v1/agents/{agent.Id} (name, model, adapter, config).");
        await using var tx = await TaskTransaction.BeginAsync(db, agent.TeamId, ct);
        if (await db.Turns.AnyAsync(t => t.AgentId == agent.Id && t.State == TurnState.Running, ct))
            throw ApiProblem.Conflict($"Agent '{agent.Name}' is running a turn; cancel the turn or wait until it is idle, then delete it.");

        var now = clock.GetUtcNow().UtcDateTime;
        var actor = Actor.Human();
        var open = await db.Tasks.Where(t => t.AssigneeId == agent.Id).ToListAsync(ct);
        foreach (var task in open)
        {
            task.AssigneeId = null;
            task.UpdatedAt = now;
            if (!task.Status.IsTerminal())
                TaskTimeline.Add(db, task.Id, task.TeamId, "unassigned", actor, now,
                    data: new { PreviousAssigneeId = agent.Id, Reason = $"agent '{agent.Name}' was deleted" });
        }
        var pending = await db.DispatchRequests.Where(r => r.AgentId == agent.Id && r.State == DispatchState.Pending).ToListAsync(ct);
        foreach (var r in pending)
        {
            r.State = DispatchState.Dead;
            r.LastError = "agent deleted";
            r.UpdatedAt = now;
        }
        db.Agents.Remove(agent);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.NoContent();
    }
}
