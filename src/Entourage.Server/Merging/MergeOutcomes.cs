using Entourage.Client.Contracts;
using Entourage.Server.Features;
using Entourage.Server.Features.Reviews;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;

namespace Entourage.Server.Merging;

/// <summary>
/// The database side of a merge's end, each in one transaction: landed (task done, dependents ready) or sent back
/// to its engineer (task in_progress, one message saying what to fix).
/// </summary>
public static class MergeOutcomes
{
    public static readonly Actor Queue = Actor.System("merge-queue");

    public static async Task LandedAsync(AppDbContext db, MergeQueueItem item, TaskItem task, Team team, string? sha, DateTime now, CancellationToken ct)
    {
        await using var tx = await TaskTransaction.BeginAsync(db, task.TeamId, ct);
        await db.Entry(task).ReloadAsync(ct);
        item.State = MergeState.Merged;
        item.Phase = "merged";
        item.MergedSha = sha;
        item.Error = null;
        item.Owner = null;
        item.LeaseUntil = null;
        item.UpdatedAt = now;
        TaskTimeline.Add(db, task.Id, task.TeamId, "merged", Queue, now, data: new
        {
            MergeId = item.Id,
            Sha = sha,
            BaseBranch = team.BaseBranch,
            Strategy = team.MergeStrategy,
            NoChanges = sha is null,
        });
        task.WorktreePath = null;
        await db.SaveChangesAsync(ct);
        if (task.Status == TaskState.InReview)
            await ChangeTaskStatus.ApplyAsync(db, task, TaskState.Done, Queue, $"merged into {team.BaseBranch}" + (sha is null ? " (no changes)" : $" as {sha[..Math.Min(12, sha.Length)]}"), now, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Conflict or failing check: the task returns to its engineer with what to fix.</summary>
    public static async Task SentBackAsync(AppDbContext db, MergeQueueItem item, TaskItem task, string error, string messageToEngineer, DateTime now, CancellationToken ct)
    {
        await using var tx = await TaskTransaction.BeginAsync(db, task.TeamId, ct);
        await db.Entry(task).ReloadAsync(ct);
        Fail(item, error, now);
        TaskTimeline.Add(db, task.Id, task.TeamId, "merge_failed", Queue, now, data: new { MergeId = item.Id, Error = error });
        await db.SaveChangesAsync(ct);
        if (task.Status == TaskState.InReview)
        {
            await ChangeTaskStatus.ApplyAsync(db, task, TaskState.InProgress, Queue, error, now, ct);
            if (task.AssigneeId is { } engineer)
                await AgentNotice.AddAsync(db, task.TeamId, engineer, "merge-queue", task.Id, messageToEngineer, DispatchReason.Review, now, ct);
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>The merge cannot proceed for a reason the engineer cannot fix (task cancelled, repository state).</summary>
    public static async Task AbandonedAsync(AppDbContext db, MergeQueueItem item, TaskItem? task, string error, DateTime now, CancellationToken ct)
    {
        Fail(item, error, now);
        if (task is not null) TaskTimeline.Add(db, task.Id, task.TeamId, "merge_failed", Queue, now, data: new { MergeId = item.Id, Error = error });
        await db.SaveChangesAsync(ct);
    }

    private static void Fail(MergeQueueItem item, string error, DateTime now)
    {
        item.State = MergeState.Failed;
        item.Phase = "failed";
        item.Error = error;
        item.Owner = null;
        item.LeaseUntil = null;
        item.UpdatedAt = now;
    }
}
