using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Entourage.Server.Features.Agents;

/// <summary>
/// An agent's MCP bearer token: rotate (the old one stops working at once, the new one is shown once) or revoke
/// (the agent can no longer call MCP tools until rotated again). Only the SHA-256 hash is ever stored.
/// </summary>
public static class AgentTokenEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("/agents/{agent_id}/token").WithTags("Agents");
        g.MapPost("/rotate", Rotate).WithSummary("Mint a new MCP token for the agent (shown once); the old one stops working.");
        g.MapDelete("/", Revoke).WithSummary("Revoke the agent's MCP token; rotate to issue a new one.");
    }

    private static async Task<Ok<AgentTokenDto>> Rotate(Guid agent_id, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var agent = await AgentLookup.FindAsync(db, agent_id, ct);
        var (token, hash, prefix) = AgentTokens.Mint();
        agent.TokenHash = hash;
        agent.TokenPrefix = prefix;
        agent.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new AgentTokenDto(agent.Id, token));
    }

    private static async Task<NoContent> Revoke(Guid agent_id, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var agent = await AgentLookup.FindAsync(db, agent_id, ct);
        agent.TokenHash = null;
        agent.TokenPrefix = null;
        agent.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }
}
