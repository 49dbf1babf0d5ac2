namespace Entourage.Server.Storage.Entities;

/// <summary>An operator's key. Only the SHA-256 hash is stored; the key is shown once at creation.</summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public Guid OrgId { get; set; }
    public required string Name { get; set; }
    public required string Hash { get; set; }
    public required string Prefix { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
}
