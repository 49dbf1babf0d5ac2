using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Agents;

/// <summary>Finds agents by uuid or by name within a team, so people and models can use either.</summary>
public static class AgentLookup
{
    public static async Task<Agent> FindAsync(AppDbContext db, Guid agentId, CancellationToken ct) =>
        await db.Agents.FirstOrDefaultAsync(a => a.Id == agentId, ct) ?? throw ApiProblem.NotFound("agent", agentId);

    public static async Task<Agent> FindAsync(AppDbContext db, string agentId, CancellationToken ct) =>
        Guid.TryParse(agentId, out var id) ? await FindAsync(db, id, ct) : throw ApiProblem.NotFound("agent", agentId);

    /// <summary>Resolves uuid-or-name references of one team in one query; unknown ones are absent from the result.</summary>
    public static async Task<Dictionary<string, Agent>> ResolveInTeamAsync(AppDbContext db, Guid teamId, IEnumerable<string> refs, CancellationToken ct)
    {
        var wanted = refs.Where(r => !string.IsNullOrWhiteSpace(r)).Select(r => r.Trim()).Distinct().ToList();
        if (wanted.Count == 0) return [];
        var ids = wanted.Select(r => Guid.TryParse(r, out var g) ? g : (Guid?)null).Where(g => g is not null).Select(g => g!.Value).ToList();
        var names = wanted.Where(r => !Guid.TryParse(r, out _)).ToList();
        var agents = await db.Agents.Where(a => a.TeamId == teamId && (ids.Contains(a.Id) || names.Contains(a.Name))).ToListAsync(ct);
        var result = new Dictionary<string, Agent>(StringComparer.Ordinal);
        foreach (var r in wanted)
        {
            var hit = Guid.TryParse(r, out var g) ? agents.FirstOrDefault(a => a.Id == g) : agents.FirstOrDefault(a => a.Name == r);
            if (hit is not null) result[r] = hit;
        }
        return result;
    }

    public static Task<Agent?> ManagerOfAsync(AppDbContext db, Guid teamId, CancellationToken ct) =>
        db.Agents.Where(a => a.TeamId == teamId && a.Role == Client.Contracts.AgentRole.Manager).OrderBy(a => a.CreatedAt).FirstOrDefaultAsync(ct);

    /// <summary>Why an agent reference did not resolve, for a 422.</summary>
    public static string UnknownMessage(string reference) =>
        $"No agent '{reference}' in this team. Use an agent id (or name) from GET /api/v1/teams/{{team_id}}/agents.";
}
