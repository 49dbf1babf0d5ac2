using Entourage.Client.Contracts;

namespace Entourage.Server.Storage.Entities;

/// <summary>Append-only timeline entry of a task (GET /tasks/{id}/events).</summary>
public sealed class TaskEvent
{
    public long Id { get; set; }
    public long TaskId { get; set; }
    public Guid TeamId { get; set; }

    /// <summary>created, assigned, status_changed, message, turn_started, turn_ended, usage, review_requested…</summary>
    public required string Kind { get; set; }
    public ActorType ActorType { get; set; }
    public string? ActorId { get; set; }
    public string? ActorName { get; set; }
    public string? FromStatus { get; set; }
    public string? ToStatus { get; set; }
    public string? DataJson { get; set; }
    public DateTime CreatedAt { get; set; }
}
