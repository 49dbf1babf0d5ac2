using Entourage.Client.Contracts;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Features.Teams;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;

namespace Entourage.Server.Features.Agents;

/// <summary>
/// POST /teams/{team_id}/agents (and the dashboard's form): one more agent in a team. The rules checked before the
/// insert (a unique name, one manager per team) hold only if no other create of the same team runs between the
/// check and the insert, so both run under the team's lock (<see cref="TaskTransaction"/>; SQLite's single writer).
/// The one-manager rule has no index behind it; a name taken by a racing rename still answers 409 (<see cref="UniqueNames"/>).
/// </summary>
public static class CreateAgent
{
    public static async Task<(Agent Agent, string Token)> ExecuteAsync(AppDbContext db, string teamRef, CreateAgentRequest body, DateTime now, CancellationToken ct)
    {
        var team = await TeamEndpoints.FindAsync(db, teamRef, ct);
        await using var tx = await TaskTransaction.BeginAsync(db, team.Id, ct);
        var (agent, token) = await AgentFactory.AddAsync(db, team.Id, body, now, ct);
        await db.SaveOrConflictAsync(() => AgentFactory.NameTaken(agent.Name), ct);
        await tx.CommitAsync(ct);
        return (agent, token);
    }
}
