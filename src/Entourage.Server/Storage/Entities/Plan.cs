using Entourage.Client.Contracts;

namespace Entourage.Server.Storage.Entities;

/// <summary>
/// The tasks a manager created for a feature while its team requires plan approval. They stay
/// <see cref="TaskState.Proposed"/> (never dispatched) until a person approves the plan; a rejection cancels them
/// and sends the feedback to the manager.
/// </summary>
public sealed class Plan
{
    public long Id { get; set; }
    public Guid TeamId { get; set; }

    /// <summary>The feature task the plan decomposes, when the manager gave its tasks a parent.</summary>
    public long? ParentTaskId { get; set; }
    public Guid? ProposedByAgentId { get; set; }
    public PlanState State { get; set; } = PlanState.Proposed;
    public string? Feedback { get; set; }
    public string? DecidedBy { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public DateTime? DecidedAt { get; set; }
}
