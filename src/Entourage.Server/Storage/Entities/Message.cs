namespace Entourage.Server.Storage.Entities;

public sealed class Message
{
    public long Id { get; set; }
    public Guid TeamId { get; set; }

    /// <summary>Null when a person sent it (then <see cref="SenderName"/> says who).</summary>
    public Guid? SenderId { get; set; }
    public string? SenderName { get; set; }
    public Guid RecipientId { get; set; }
    public long? TaskId { get; set; }
    public required string Body { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? ReadAt { get; set; }
}
