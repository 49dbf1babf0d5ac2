using Entourage.Server.Git;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Merging;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Reviews;

/// <summary>
/// request_review: the engineer hands a task back. Uncommitted work in the worktree is committed, the branch's diff
/// against the base branch is recorded, and the task moves to in_review. With the team's require_review off the
/// review approves itself and the task goes straight to the merge queue; otherwise a reviewer agent (if the team
/// has one) gets a turn, and people see it in the dashboard and GET /tasks/{id}/diff.
/// </summary>
public static class RequestReview
{
    public const int MaxSummary = 10_000;
    public const int MaxStoredDiff = 2 * 1024 * 1024;

    public static async Task<ReviewDto> ExecuteAsync(AppDbContext db, long taskId, string? summary, Actor actor, TimeProvider clock, CancellationToken ct)
    {
        if (summary is { Length: > MaxSummary }) throw ApiProblem.Invalid("summary", $"At most {MaxSummary} characters; summarise what changed and why.");
        var task = await TaskViews.FindAsync(db, taskId, ct);
        if (task.Status == TaskState.InReview)
        {
            var open = await db.Reviews.Where(r => r.TaskId == taskId).OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct);
            if (open is not null) return await ReviewViews.ToDtoAsync(db, open, ct); // a retried call is harmless
        }
        if (task.Status != TaskState.InProgress)
            throw ApiProblem.Conflict($"Task {taskId} is {EnumNames.ToSnake(task.Status)}; only a task in progress can be sent to review. Claim it first (status in_progress).",
                new Dictionary<string, object?> { ["status"] = EnumNames.ToSnake(task.Status) });
        if (actor.AgentId is { } caller && task.AssigneeId is { } assignee && caller != assignee)
            throw ApiProblem.Conflict($"Task {taskId} is assigned to another agent; only its assignee requests its review.");
        var team = await db.Teams.FirstAsync(t => t.Id == task.TeamId, ct);
        // Without a repository or a branch (a team that does not work on code) the review has an empty diff and
        // approval completes the task with nothing to merge.
        var diff = new BranchDiffResult("", "", "", []);
        if (team.RepoPath is not null && task.Branch is not null)
        {
            var worktree = task.WorktreePath ?? MergeWorker.WorktreePathFor(team.RepoPath, task.Branch);
            var remote = RemoteBranches.IsRemote(team, task);
            try
            {
                if (remote) await RemoteBranches.FetchAsync(team, task.Branch, ct);
                else if (Directory.Exists(worktree))
                    await BranchDiff.CommitPendingAsync(worktree, $"{task.Title} (task #{task.Id}): work left uncommitted at review request", ct);
                diff = await BranchDiff.ComputeAsync(team.RepoPath, team.BaseBranch, task.Branch, ct);
            }
            catch (GitException) when (remote)
            {
                // A runner works on this task and pushes its branch when the turn ends; it then fills in this
                // review's diff, and the merge queue waits for that push.
            }
            catch (GitException e)
            {
                throw ApiProblem.Conflict($"Cannot read branch {task.Branch} of task {task.Id}: {e.Message} Commit your work on that branch, then request review again.");
            }
        }

        var now = clock.GetUtcNow().UtcDateTime;
        await using var tx = await TaskTransaction.BeginAsync(db, task.TeamId, ct);
        await db.Entry(task).ReloadAsync(ct);
        var review = new Review
        {
            TaskId = task.Id,
            TeamId = task.TeamId,
            Diff = BranchDiff.Truncate(diff.Unified, MaxStoredDiff),
            BaseSha = diff.BaseSha.Length == 0 ? null : diff.BaseSha,
            HeadSha = diff.HeadSha.Length == 0 ? null : diff.HeadSha,
            Summary = summary?.Trim(),
            RequestedAt = now,
        };
        db.Reviews.Add(review);
        await db.SaveChangesAsync(ct);
        TaskTimeline.Add(db, task.Id, task.TeamId, "review_requested", actor, now, data: new
        {
            ReviewId = review.Id,
            HeadSha = diff.HeadSha,
            Files = diff.Files.Count,
            diff.Additions,
            diff.Deletions,
            Summary = summary,
        });
        await ChangeTaskStatus.ApplyAsync(db, task, TaskState.InReview, actor, null, now, ct);

        if (!team.RequireReview)
        {
            review.State = ReviewState.Approved;
            review.Reviewer = "auto (require_review is off)";
            review.DecidedAt = now;
            TaskTimeline.Add(db, task.Id, task.TeamId, "review_approved", Actor.System("review"), now, data: new { ReviewId = review.Id, Auto = true });
            await MergeQueue.EnqueueAsync(db, task, now, ct);
        }
        else if (await db.Agents.Where(a => a.TeamId == task.TeamId && a.Role == AgentRole.Reviewer).OrderBy(a => a.CreatedAt).FirstOrDefaultAsync(ct) is { } reviewer)
        {
            var note = $"Task #{task.Id} (\"{task.Title}\") is ready for review: {diff.Files.Count} file(s), +{diff.Additions} -{diff.Deletions}." +
                (string.IsNullOrWhiteSpace(summary) ? "" : $"\nThe engineer's summary: {summary.Trim()}") +
                $"\nRead the diff (GET /api/v1/tasks/{task.Id}/diff), then approve or request changes with comments on file and line (POST /api/v1/reviews/{review.Id}/approve or /request-changes).";
            await AgentNotice.AddAsync(db, task.TeamId, reviewer.Id, "entourage", task.Id, note, DispatchReason.Review, now, ct);
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return await ReviewViews.ToDtoAsync(db, review, ct);
    }
}
