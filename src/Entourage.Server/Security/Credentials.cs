using Entourage.Server.Dispatch;
using Entourage.Server.Features.Agents;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Security;

/// <summary>
/// Turns a presented secret into a caller. Every kind is looked up by its SHA-256 hash (the database never holds
/// a usable secret): the admin key (configuration), a running turn's token (ent_turn_…), an agent token
/// (ent_agent_…), a runner token (ent_runner_…, not revoked), an org API key (ent_key_…, not revoked).
/// </summary>
public static class Credentials
{
    public const string CookieName = "entourage_key";

    /// <summary>The bearer token of the request, or null; malformed or oversized values count as absent.</summary>
    public static string? Bearer(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return null;
        var token = header[scheme.Length..].Trim();
        return token.Length is > 0 and <= 512 ? token : null;
    }

    public static string? Cookie(HttpRequest request) =>
        request.Cookies.TryGetValue(CookieName, out var v) && v.Length is > 0 and <= 512 ? v : null;

    /// <summary>Fills <paramref name="caller"/> and returns true, or returns false for an unknown or revoked secret.</summary>
    public static async Task<bool> ResolveAsync(string secret, AppDbContext db, AdminKey admin, RequestCaller caller, CancellationToken ct)
    {
        if (admin.Matches(secret))
        {
            caller.SetAdmin();
            return true;
        }
        var hash = AgentTokens.Hash(secret);
        if (secret.StartsWith(TurnTokens.Prefix, StringComparison.Ordinal))
        {
            var turn = await TurnTokens.FindRunningAsync(db, secret, ct);
            return turn is not null && await SetAgentAsync(db, turn.AgentId, caller, ct);
        }
        if (secret.StartsWith(AgentTokens.Prefix, StringComparison.Ordinal))
        {
            var agentId = await db.Agents.Where(a => a.TokenHash == hash).Select(a => (Guid?)a.Id).FirstOrDefaultAsync(ct);
            return agentId is { } id && await SetAgentAsync(db, id, caller, ct);
        }
        if (secret.StartsWith(Features.RunnerTokens.RunnerTokenEndpoints.Prefix, StringComparison.Ordinal))
        {
            var runner = await db.RunnerTokens.AsNoTracking().Where(t => t.Hash == hash && t.RevokedAt == null)
                .Select(t => new { t.Id, t.Labels }).FirstOrDefaultAsync(ct);
            if (runner is null) return false;
            caller.SetRunner(runner.Id, runner.Labels);
            return true;
        }
        var key = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Hash == hash && k.RevokedAt == null, ct);
        if (key is null) return false;
        caller.SetOrgKey(key.OrgId, key.Id);
        return true;
    }

    private static async Task<bool> SetAgentAsync(AppDbContext db, Guid agentId, RequestCaller caller, CancellationToken ct)
    {
        var scope = await (from a in db.Agents
                           join t in db.Teams on a.TeamId equals t.Id
                           where a.Id == agentId
                           select new { t.Id, t.OrgId }).FirstOrDefaultAsync(ct);
        if (scope is null) return false;
        caller.SetAgent(agentId, scope.Id, scope.OrgId);
        return true;
    }
}
