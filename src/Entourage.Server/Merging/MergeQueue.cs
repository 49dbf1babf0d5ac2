using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Merging;

/// <summary>Adding approved tasks to the merge queue, in the caller's transaction (the approval and its queue entry commit together).</summary>
public static class MergeQueue
{
    public static async Task<MergeQueueItem> EnqueueAsync(AppDbContext db, TaskItem task, DateTime now, CancellationToken ct)
    {
        var open = await db.MergeQueue.FirstOrDefaultAsync(m => m.TaskId == task.Id && (m.State == MergeState.Queued || m.State == MergeState.Running), ct);
        if (open is not null) return open;
        var item = new MergeQueueItem { TeamId = task.TeamId, TaskId = task.Id, State = MergeState.Queued, Phase = "queued", CreatedAt = now, UpdatedAt = now };
        db.MergeQueue.Add(item);
        return item;
    }

    public static MergeStatusDto ToDto(MergeQueueItem m) =>
        new(m.Id, m.TaskId, m.State, m.Phase, m.Attempts, m.MergedSha, m.Error, m.CreatedAt, m.UpdatedAt);
}

/// <summary>Merge queue settings (section "Merging").</summary>
public sealed class MergeOptions
{
    /// <summary>How long a node's claim on a queue item lasts without renewal (PostgreSQL, several nodes).</summary>
    public int LeaseSeconds { get; set; } = 60;

    /// <summary>Fallback poll when no change-feed wake-up arrives.</summary>
    public int PollSeconds { get; set; } = 5;

    /// <summary>The check command is killed after this long and counts as failed.</summary>
    public int CheckTimeoutMinutes { get; set; } = 30;

    /// <summary>Characters of the check output's tail sent to the engineer.</summary>
    public int OutputTailChars { get; set; } = 4000;
}
