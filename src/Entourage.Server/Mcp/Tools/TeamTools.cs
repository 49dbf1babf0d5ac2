using System.ComponentModel;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using ModelContextProtocol.Server;

namespace Entourage.Server.Mcp.Tools;

[McpServerToolType]
public sealed class TeamTools
{
    [McpServerTool(Name = "list_team_agents", ReadOnly = true, Idempotent = true, UseStructuredContent = false)]
    [Description("Lists every agent on your team with its role, what it is good at (config.description), status " +
                 "(idle: free now; busy: running a turn; offline: its CLI is not available here), active_task_count " +
                 "(tasks assigned and not finished) and adapter. Call it before assigning work to pick an idle agent " +
                 "with matching skills; use the returned id as assignee_id.")]
    public static async Task<List<AgentDto>> ListTeamAgents(McpCaller caller, AgentViews views, CancellationToken ct) =>
        await views.ForTeamAsync(caller.TeamId, ct);
}
