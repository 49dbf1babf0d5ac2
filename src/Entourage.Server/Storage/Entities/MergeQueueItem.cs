using Entourage.Client.Contracts;

namespace Entourage.Server.Storage.Entities;

/// <summary>An approved task waiting to land on the base branch; served one at a time per repository.</summary>
public sealed class MergeQueueItem
{
    public long Id { get; set; }
    public Guid TeamId { get; set; }
    public long TaskId { get; set; }
    public MergeState State { get; set; } = MergeState.Queued;
    public int Attempts { get; set; }

    /// <summary>
    /// Last step recorded before a crash could interrupt the next: preparing | checking | landing | finishing.
    /// With <see cref="BaseSha"/> and <see cref="CandidateSha"/> it lets a restarted worker resume without
    /// landing anything twice.
    /// </summary>
    public string? Phase { get; set; }

    /// <summary>The base branch commit the candidate was built on; landing is a compare-and-swap from it.</summary>
    public string? BaseSha { get; set; }

    /// <summary>The commit that will become the base branch head (squash commit, rebased head or merge commit).</summary>
    public string? CandidateSha { get; set; }
    public string? MergedSha { get; set; }
    public string? Error { get; set; }
    public string? Owner { get; set; }
    public DateTime? LeaseUntil { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
