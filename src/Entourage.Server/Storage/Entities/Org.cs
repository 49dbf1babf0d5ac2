namespace Entourage.Server.Storage.Entities;

public sealed class Org
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public required string Slug { get; set; }
    public DateTime CreatedAt { get; set; }
}
