using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Plans;

/// <summary>
/// The hook task creation calls for new tasks (before saving them): when the team requires plan approval and the
/// creator is the team's manager agent, the tasks join the manager's open plan for that feature and start as
/// <see cref="TaskState.Proposed"/>, which nothing dispatches. Tasks people create are never held.
/// </summary>
public static class PlanApproval
{
    public static async Task ProposeAsync(AppDbContext db, Guid teamId, Actor actor, IReadOnlyList<TaskItem> tasks, DateTime now, CancellationToken ct)
    {
        if (tasks.Count == 0 || actor.AgentId is not { } agentId) return;
        var requires = await db.Teams.Where(t => t.Id == teamId).Select(t => t.RequirePlanApproval).FirstOrDefaultAsync(ct);
        if (!requires) return;
        var isManager = await db.Agents.AnyAsync(a => a.Id == agentId && a.TeamId == teamId && a.Role == AgentRole.Manager, ct);
        if (!isManager) return;

        foreach (var group in tasks.GroupBy(t => t.ParentId))
        {
            var parent = group.Key;
            // Several create_task calls for one feature build one plan, until a person decides on it.
            var plan = await db.Plans.FirstOrDefaultAsync(p => p.TeamId == teamId && p.State == PlanState.Proposed && p.ParentTaskId == parent, ct);
            if (plan is null)
            {
                plan = new Plan { TeamId = teamId, ParentTaskId = parent, ProposedByAgentId = agentId, CreatedAt = now, UpdatedAt = now };
                db.Plans.Add(plan);
                await db.SaveChangesAsync(ct);
            }
            else
            {
                plan.UpdatedAt = now;
            }
            foreach (var t in group)
            {
                t.PlanId = plan.Id;
                t.Status = TaskState.Proposed;
            }
        }
    }
}
