namespace Entourage.Client.Contracts;

public sealed record OrgDto(Guid Id, string Name, string Slug, DateTime CreatedAt);

public sealed record CreateOrgRequest(string? Name, string? Slug);
