using System.Security.Cryptography;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using Entourage.Server.Features.Orgs;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.ApiKeys;

/// <summary>
/// Operator API keys, scoped to one org: minted here (shown once, stored as SHA-256), listed by prefix, revoked.
/// Over MCP a key acts for any agent of its org named in the X-Entourage-Agent header.
/// </summary>
public static class ApiKeyEndpoints
{
    public const string Prefix = "ent_key_";

    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("").WithTags("API keys");
        g.MapPost("/orgs/{org_id}/api-keys", Create).WithSummary("Mint an API key for the org; the key is shown once.");
        g.MapGet("/orgs/{org_id}/api-keys", List).WithSummary("The org's API keys (prefix only).");
        g.MapDelete("/api-keys/{key_id}", Revoke).WithSummary("Revoke an API key; it stops working at once.");
    }

    private static async Task<Created<ApiKeyDto>> Create(string org_id, CreateApiKeyRequest body, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var org = await OrgEndpoints.FindAsync(db, org_id, ct);
        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name)) throw ApiProblem.Invalid("name", "Required: say what the key is for, e.g. \"ci\" or \"ana's laptop\".");
        if (name.Length > 100) throw ApiProblem.Invalid("name", "At most 100 characters.");
        var key = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var row = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            OrgId = org.Id,
            Name = name,
            Hash = AgentTokens.Hash(key),
            Prefix = key[..(Prefix.Length + 6)],
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        db.ApiKeys.Add(row);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/orgs/{org.Id}/api-keys", ToDto(row) with { Key = key });
    }

    private static async Task<Ok<List<ApiKeyDto>>> List(string org_id, AppDbContext db, CancellationToken ct)
    {
        var org = await OrgEndpoints.FindAsync(db, org_id, ct);
        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.OrgId == org.Id).OrderBy(k => k.CreatedAt).ToListAsync(ct);
        return TypedResults.Ok(keys.Select(k => ToDto(k)).ToList());
    }

    private static async Task<Ok<ApiKeyDto>> Revoke(Guid key_id, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == key_id, ct) ?? throw ApiProblem.NotFound("API key", key_id);
        key.RevokedAt ??= clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToDto(key));
    }

    private static ApiKeyDto ToDto(ApiKey k) => new(k.Id, k.OrgId, k.Name, k.Prefix, k.CreatedAt, k.RevokedAt);
}
