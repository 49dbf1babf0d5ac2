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
    public string? MergedSha { get; set; }
    public string? Error { get; set; }
    public string? Owner { get; set; }
    public DateTime? LeaseUntil { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
