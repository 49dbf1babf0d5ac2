namespace Entourage.Server.Storage.Entities;

/// <summary>
/// A runner token (issue #10): lets a machine that must not reach the database run agent turns over HTTPS
/// (<c>/api/v1/runner/…</c>). Only the SHA-256 hash is stored; the token is shown once at creation. A token with
/// labels caps what its runners may advertise, so a leaked token cannot claim work pinned to other machines.
/// </summary>
public sealed class RunnerToken
{
    public Guid Id { get; set; }
    public required string Name { get; set; }

    /// <summary>Comma-joined normalised labels (see NodeLabels), or null: the runner picks its own.</summary>
    public string? Labels { get; set; }
    public required string Hash { get; set; }
    public required string Prefix { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
}
