using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// With the team's <c>require_review</c> on (the default), an agent's work reaches done only through the review
/// loop of DESIGN §3: request_review → in_review → approval → the merge queue lands it (done). So an agent asking
/// for done directly is refused with the way forward. Not refused: people over REST, CLI or dashboard (an operator
/// closing a task by hand; the timeline records who did it), the system's own transitions (the merge queue, a parent
/// completed by its last child), and a parent task, which has no code of its own (its sub-tasks were reviewed).
/// </summary>
public static class ChangeTaskStatusReviewGate
{
    public static async Task EnsureAllowedAsync(AppDbContext db, TaskItem task, TaskState to, Actor actor, CancellationToken ct)
    {
        if (to != TaskState.Done || actor.Type != ActorType.Agent) return;
        var team = await db.Teams.AsNoTracking().Where(t => t.Id == task.TeamId).Select(t => new { t.RequireReview, t.BaseBranch }).FirstAsync(ct);
        if (!team.RequireReview) return;
        if (await db.Tasks.AnyAsync(t => t.ParentId == task.Id, ct)) return;

        var detail = task.Status == TaskState.InReview
            ? $"Task {task.Id} is in review and this team requires review (require_review is on): it becomes done when a reviewer " +
              $"approves it and the merge queue lands it on {team.BaseBranch}. Wait for the verdict (get_review_feedback); do not set done yourself."
            : $"Task {task.Id} cannot be marked done directly: this team requires review (require_review is on). Commit your work " +
              $"and call request_review with a short summary; the task becomes done when a reviewer approves it and the merge " +
              $"queue lands it on {team.BaseBranch}.";
        throw ApiProblem.Conflict(detail, new Dictionary<string, object?>
        {
            ["current_status"] = EnumNames.ToSnake(task.Status),
            ["require_review"] = true,
            ["next"] = task.Status == TaskState.InReview ? "get_review_feedback" : "request_review",
        });
    }
}
