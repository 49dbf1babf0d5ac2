using Entourage.Client.Mcp;
using Entourage.Server.Features.Agents;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Mcp;

/// <summary>
/// Runs in front of /mcp: turns the bearer token into an <see cref="McpCaller"/> or refuses the request with
/// 401/403 before the MCP handler sees it. Two kinds of token:
/// an agent token (ent_agent_…, minted per agent, stored hashed, revocable) or a turn token (ent_turn_…, minted
/// by the dispatcher for one turn, valid while it runs) names its agent;
/// an operator API key (stored hashed, scoped to an org) acts for the agent named in X-Entourage-Agent.
/// </summary>
public sealed partial class McpBearerAuth(RequestDelegate next, ILogger<McpBearerAuth> logger)
{
    public async Task InvokeAsync(HttpContext http, AppDbContext db, McpCaller caller)
    {
        var token = BearerToken(http.Request);
        if (token is null)
        {
            await Refuse(http, 401, "Missing bearer token. Send Authorization: Bearer <agent token>; the agent's token was shown once when it was created, and POST /api/v1/agents/{id}/token/rotate mints a new one.");
            return;
        }
        var hash = AgentTokens.Hash(token);
        var ct = http.RequestAborted;

        // The dispatcher gives each turn its own token, valid while that turn runs (Dispatch.TurnTokens).
        if (await Dispatch.TurnTokens.FindRunningAsync(db, token, ct) is { } turn)
        {
            var turnAgent = await db.Agents.FirstOrDefaultAsync(a => a.Id == turn.AgentId, ct);
            if (turnAgent is not null)
            {
                caller.Set(turnAgent, await db.Teams.FirstAsync(t => t.Id == turnAgent.TeamId, ct), "turn_token");
                await next(http);
                return;
            }
        }

        var agent = await db.Agents.FirstOrDefaultAsync(a => a.TokenHash == hash, ct);
        if (agent is not null)
        {
            var team = await db.Teams.FirstAsync(t => t.Id == agent.TeamId, ct);
            caller.Set(agent, team, "agent_token");
            await next(http);
            return;
        }

        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Hash == hash && k.RevokedAt == null, ct);
        if (key is null)
        {
            LogRefused(logger, token.Length > 12 ? token[..12] : "(short)");
            await Refuse(http, 401, "Invalid or revoked token. Use the agent's current token (rotate it with POST /api/v1/agents/{id}/token/rotate) or an org API key.");
            return;
        }
        var named = http.Request.Headers[StdioBridge.ActAsAgentHeader].ToString();
        if (!Guid.TryParse(named, out var agentId))
        {
            await Refuse(http, 400, $"An API key acts for an agent: name it with the {StdioBridge.ActAsAgentHeader} header (the agent's uuid).");
            return;
        }
        var target = await db.Agents.FirstOrDefaultAsync(a => a.Id == agentId, ct);
        var targetTeam = target is null ? null : await db.Teams.FirstOrDefaultAsync(t => t.Id == target.TeamId, ct);
        if (target is null || targetTeam is null || targetTeam.OrgId != key.OrgId)
        {
            await Refuse(http, 403, $"This API key cannot act for agent '{named}': no such agent in the key's org.");
            return;
        }
        caller.Set(target, targetTeam, "api_key", key.Id);
        await next(http);
    }

    private static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return null;
        var token = header[scheme.Length..].Trim();
        return token.Length is > 0 and <= 512 ? token : null;
    }

    private static Task Refuse(HttpContext http, int status, string detail)
    {
        if (status == 401) http.Response.Headers.WWWAuthenticate = "Bearer realm=\"entourage\"";
        return Results.Problem(statusCode: status, title: status switch { 401 => "Unauthorized", 403 => "Forbidden", _ => "Bad request" }, detail: detail)
            .ExecuteAsync(http);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP request refused: unknown token starting {Prefix}")]
    private static partial void LogRefused(ILogger logger, string prefix);
}
