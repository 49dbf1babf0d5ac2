using Entourage.Server.Hosting;
using Entourage.Server.Storage.Entities;

namespace Entourage.Server.Mcp;

/// <summary>
/// Who is calling an MCP tool, established from the bearer token before the MCP handler runs (one per request:
/// the server is stateless). Tools take the caller from here and never from their arguments, so an agent can only
/// ever act as itself and inside its own team.
/// </summary>
public sealed class McpCaller
{
    private Agent? _agent;
    private Team? _team;

    public Agent Agent => _agent ?? throw NotAuthenticated();
    public Team Team => _team ?? throw NotAuthenticated();
    public Guid AgentId => Agent.Id;
    public Guid TeamId => Team.Id;

    /// <summary>"agent_token", "turn_token" (a dispatched turn) or "api_key" (an operator acting for the agent).</summary>
    public string Via { get; private set; } = "";

    /// <summary>The operator key's id when <see cref="Via"/> is api_key.</summary>
    public Guid? ApiKeyId { get; private set; }

    public bool IsAuthenticated => _agent is not null;

    internal void Set(Agent agent, Team team, string via, Guid? apiKeyId = null)
    {
        _agent = agent;
        _team = team;
        Via = via;
        ApiKeyId = apiKeyId;
    }

    /// <summary>Refuses ids of another team with the same answer as a missing id: no probing across teams.</summary>
    public void EnsureSameTeam(Guid teamId, string what, object id)
    {
        if (teamId != TeamId) throw ApiProblem.NotFound(what, id);
    }

    private static ApiProblem NotAuthenticated() =>
        new(401, "Unauthorized", "This MCP call has no authenticated agent. Send Authorization: Bearer <agent token>.");
}
