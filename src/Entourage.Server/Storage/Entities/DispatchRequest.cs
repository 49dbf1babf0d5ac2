using Entourage.Client.Contracts;

namespace Entourage.Server.Storage.Entities;

/// <summary>
/// A unit of work for the dispatcher (DESIGN §4). Created in the same transaction as its cause; the claim query
/// over this table is the only source of truth for what must run.
/// </summary>
public sealed class DispatchRequest
{
    public long Id { get; set; }
    public Guid AgentId { get; set; }
    public Guid TeamId { get; set; }
    public DispatchReason Reason { get; set; }
    public string? Ref { get; set; }
    public long? TaskId { get; set; }
    public DispatchState State { get; set; } = DispatchState.Pending;
    public int Priority { get; set; }
    public int Attempts { get; set; }
    public string? Owner { get; set; }
    public DateTime? LeaseUntil { get; set; }
    public Guid? TurnId { get; set; }
    public string? LastError { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
