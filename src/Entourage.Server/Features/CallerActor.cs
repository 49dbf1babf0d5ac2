using Entourage.Server.Security;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features;

/// <summary>
/// The actor of a REST call that agents can also make: with an agent's own token (or a running turn's) it is that
/// agent, so the rules agents follow over MCP hold over REST as well (the review gate: an agent cannot set its own
/// task done) and the timeline names the agent; anyone else (the local user, the admin key, an org key) is a person.
/// </summary>
public static class CallerActor
{
    public static async Task<Actor> OfAsync(RequestCaller caller, AppDbContext db, CancellationToken ct)
    {
        if (caller.Kind != CallerKind.Agent || caller.AgentId is not { } agentId) return Actor.Human();
        var name = await db.Agents.AsNoTracking().Where(a => a.Id == agentId).Select(a => a.Name).FirstOrDefaultAsync(ct);
        return Actor.ForAgent(agentId, name ?? agentId.ToString());
    }
}
