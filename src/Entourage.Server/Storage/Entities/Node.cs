namespace Entourage.Server.Storage.Entities;

/// <summary>A server or runner process, heartbeating so others can recover its leases when it dies.</summary>
public sealed class Node
{
    public required string Id { get; set; }
    public string Role { get; set; } = "server";
    public string? Labels { get; set; }
    public string? Version { get; set; }
    public string? Host { get; set; }
    public int MaxConcurrentTurns { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime HeartbeatAt { get; set; }
    public bool Lost { get; set; }
}
