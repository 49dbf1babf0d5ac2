using System.Text;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Reviews;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Plans;

/// <summary>
/// A person's decision on a proposed plan. Approve: its tasks become todo and the ready ones are dispatched (minus
/// any excluded, which are cancelled). Reject: its tasks are cancelled and the feedback goes to the manager as a
/// message, so it proposes a better plan. Edits before approving go through PATCH /tasks/{id} on the proposed tasks.
/// </summary>
public static class DecidePlan
{
    public const int MaxFeedback = 10_000;

    public static async Task<PlanDto> ApproveAsync(AppDbContext db, long planId, ApprovePlanRequest body, TimeProvider clock, CancellationToken ct)
    {
        var plan = await OpenAsync(db, planId, ct);
        var tasks = await db.Tasks.Where(t => t.PlanId == plan.Id && t.Status == TaskState.Proposed).OrderBy(t => t.Id).ToListAsync(ct);
        var exclude = (body.ExcludeTaskIds ?? []).ToHashSet();
        var errors = new ValidationErrors();
        foreach (var id in exclude.Where(id => tasks.All(t => t.Id != id)))
            errors.Add("exclude_task_ids", $"Task {id} is not a proposed task of plan {planId}.");
        if (body.Comment is { Length: > MaxFeedback }) errors.Add("comment", $"At most {MaxFeedback} characters.");
        errors.ThrowIfAny();

        var actor = Actor.Human(body.ApprovedBy);
        var now = clock.GetUtcNow().UtcDateTime;
        await using var tx = await TaskTransaction.BeginAsync(db, plan.TeamId, ct);
        Decide(plan, PlanState.Approved, body.Comment, actor.Name, now);
        // Excluded first, so a kept task that depended on one shows as blocked_by_failed rather than waiting forever.
        foreach (var t in tasks.Where(t => exclude.Contains(t.Id)))
            await ChangeTaskStatus.ApplyAsync(db, t, TaskState.Cancelled, actor, $"removed from plan {plan.Id} at approval", now, ct);
        foreach (var t in tasks.Where(t => !exclude.Contains(t.Id)))
        {
            await ChangeTaskStatus.ApplyAsync(db, t, TaskState.Todo, actor, $"plan {plan.Id} approved", now, ct);
            // Unassigned ready tasks go to the manager to assign, as for any new task.
            await DagEffects.EnqueueIfReadyAsync(db, t, actor, now, toManagerIfUnassigned: true, ct);
        }
        if (!string.IsNullOrWhiteSpace(body.Comment) && plan.ProposedByAgentId is { } manager)
            await AgentNotice.AddAsync(db, plan.TeamId, manager, actor.Name, plan.ParentTaskId,
                $"{actor.Name} approved your plan #{plan.Id} ({tasks.Count - exclude.Count} task(s)) with a comment:\n\n{body.Comment.Trim()}", DispatchReason.Message, now, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return await PlanViews.ToDtoAsync(db, plan, ct);
    }

    public static async Task<PlanDto> RejectAsync(AppDbContext db, long planId, RejectPlanRequest body, TimeProvider clock, CancellationToken ct)
    {
        var feedback = body.Feedback?.Trim();
        if (string.IsNullOrEmpty(feedback)) throw ApiProblem.Invalid("feedback", "Required: tell the manager what to change in the plan.");
        if (feedback.Length > MaxFeedback) throw ApiProblem.Invalid("feedback", $"At most {MaxFeedback} characters.");
        var plan = await OpenAsync(db, planId, ct);
        var tasks = await db.Tasks.Where(t => t.PlanId == plan.Id && t.Status == TaskState.Proposed).OrderBy(t => t.Id).ToListAsync(ct);

        var actor = Actor.Human(body.RejectedBy);
        var now = clock.GetUtcNow().UtcDateTime;
        await using var tx = await TaskTransaction.BeginAsync(db, plan.TeamId, ct);
        Decide(plan, PlanState.Rejected, feedback, actor.Name, now);
        foreach (var t in tasks)
            await ChangeTaskStatus.ApplyAsync(db, t, TaskState.Cancelled, actor, $"plan {plan.Id} rejected", now, ct);
        var recipient = plan.ProposedByAgentId ?? (await db.Agents.Where(a => a.TeamId == plan.TeamId && a.Role == AgentRole.Manager).OrderBy(a => a.CreatedAt).Select(a => (Guid?)a.Id).FirstOrDefaultAsync(ct));
        if (recipient is { } manager)
        {
            var sb = new StringBuilder();
            sb.Append($"{actor.Name} rejected your plan #{plan.Id}; its {tasks.Count} proposed task(s) were cancelled:\n");
            foreach (var t in tasks) sb.Append($"  - #{t.Id} {t.Title}\n");
            sb.Append($"\nFeedback:\n{feedback}\n\nPropose a revised plan (create the tasks again); it will wait for approval the same way.");
            await AgentNotice.AddAsync(db, plan.TeamId, manager, actor.Name, plan.ParentTaskId, sb.ToString(), DispatchReason.Message, now, ct);
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return await PlanViews.ToDtoAsync(db, plan, ct);
    }

    private static async Task<Plan> OpenAsync(AppDbContext db, long planId, CancellationToken ct)
    {
        var plan = await PlanViews.FindAsync(db, planId, ct);
        if (plan.State != PlanState.Proposed)
            throw ApiProblem.Conflict($"Plan {planId} is already {EnumNames.ToSnake(plan.State)}.", new Dictionary<string, object?> { ["state"] = EnumNames.ToSnake(plan.State) });
        return plan;
    }

    private static void Decide(Plan plan, PlanState state, string? feedback, string by, DateTime now)
    {
        plan.State = state;
        plan.Feedback = string.IsNullOrWhiteSpace(feedback) ? null : feedback.Trim();
        plan.DecidedBy = by;
        plan.DecidedAt = now;
        plan.UpdatedAt = now;
    }
}
