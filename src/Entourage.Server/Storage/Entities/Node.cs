namespace Entourage.Server.Storage.Entities;

/// <summary>A server or runner process, heartbeating so others can recover its leases when it dies.</summary>
public sealed class Node
{
    public required string Id { get; set; }
    /// <summary>server | runner.</summary>
    public string Role { get; set; } = "server";

    /// <summary>Comma-joined normalised labels (see NodeLabels); pinned work needs all of its labels here.</summary>
    public string? Labels { get; set; }
    public string? Version { get; set; }
    public string? Host { get; set; }
    public int MaxConcurrentTurns { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime HeartbeatAt { get; set; }
    public bool Lost { get; set; }

    /// <summary>Set by a clean shutdown (its turns were released); a node that dies without it becomes lost.</summary>
    public DateTime? StoppedAt { get; set; }

    /// <summary>The runner token an HTTP runner registered with (null for nodes on the database); only it may act for the node.</summary>
    public Guid? RunnerTokenId { get; set; }
}
