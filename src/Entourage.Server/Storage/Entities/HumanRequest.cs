using Entourage.Client.Contracts;

namespace Entourage.Server.Storage.Entities;

public sealed class HumanRequest
{
    public long Id { get; set; }
    public Guid TeamId { get; set; }
    public Guid? AgentId { get; set; }
    public long? TaskId { get; set; }
    public HumanRequestKind Kind { get; set; }
    public required string Question { get; set; }
    public string? OptionsJson { get; set; }
    public HumanRequestStatus Status { get; set; } = HumanRequestStatus.Pending;
    public string? Answer { get; set; }
    public string? AnsweredBy { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? AnsweredAt { get; set; }
    public DateTime? ExpiresAt { get; set; }
}
