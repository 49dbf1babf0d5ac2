namespace Entourage.Client.Contracts;

/// <summary>An operator API key of an org. <c>key</c> is present only in the creation response (shown once).</summary>
public sealed record ApiKeyDto(Guid Id, Guid OrgId, string Name, string Prefix, DateTime CreatedAt, DateTime? RevokedAt, string? Key = null);

/// <summary>POST /orgs/{org_id}/api-keys.</summary>
public sealed record CreateApiKeyRequest(string? Name);
