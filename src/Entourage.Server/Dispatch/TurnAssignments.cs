using Entourage.Client.Contracts;
using Entourage.Server.Agents;
using Entourage.Server.Agents.Adapters;
using Entourage.Server.Features.Agents;
using Entourage.Server.Git;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Dispatch;

/// <summary>
/// The database half of preparing a turn: reads the agent, team and task, builds the prompt from the requests the
/// claim took, finds the session to resume and computes the agent's ENTOURAGE_* identity. The result is what
/// <see cref="TurnPreparation"/> needs on whichever machine runs the turn (this node, or an HTTP runner, which
/// gets it as the claim's answer).
/// </summary>
public sealed class TurnAssignments(IDbContextFactory<AppDbContext> factory, IEnumerable<IAgentAdapter> adapters)
{
    public async Task<TurnAssignment> BuildAsync(ClaimedTurn claimed, string serverUrl, CancellationToken ct)
    {
        var turn = claimed.Turn;
        await using var db = await factory.CreateDbContextAsync(ct);
        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == turn.AgentId, ct)
            ?? throw new TurnPreparationException("The agent was deleted.");
        var team = await db.Teams.AsNoTracking().FirstAsync(t => t.Id == turn.TeamId, ct);
        var task = turn.TaskId is { } tid ? await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == tid, ct) : null;

        var resumes = adapters.FirstOrDefault(a => a.Name == agent.Adapter)?.ResumesSessions == true;
        var resume = resumes && task is not null ? await SessionToResumeAsync(db, agent.Id, task.Id, turn.Id, ct) : null;

        var prompt = await PromptBuilder.BuildAsync(db, agent, team, task, claimed.Requests, ct);
        serverUrl = serverUrl.TrimEnd('/');
        return new TurnAssignment(
            turn.Id, turn.Attempt,
            agent.Id, agent.Name, agent.Role, agent.Adapter, agent.Model, AgentViews.ParseConfig(agent.ConfigJson),
            team.Id, team.Slug, team.RepoUrl, team.RepoPath, team.BaseBranch, team.SetupCommand,
            task?.Id, task?.Title, task is null ? null : task.Branch ?? Worktrees.TaskBranch(task.Id, task.Title),
            prompt, resume, claimed.Token, serverUrl, serverUrl + Mcp.McpRegistration.Path,
            AgentEnvironment.Identity(agent.Id, agent.TeamId, serverUrl, claimed.Token, task?.Id, turn.Id, turn.Attempt));
    }

    /// <summary>
    /// The session of the agent's latest turn on this task that reported one (Claude Code's session_id, Codex's
    /// thread id), resumed per agent and task. Not when a later turn failed before its CLI reported any session:
    /// that is what a session that can no longer be resumed looks like (its files gone, another node's CLI home),
    /// and resuming it again would only fail every attempt, so the agent starts a fresh conversation instead.
    /// </summary>
    private static async Task<string?> SessionToResumeAsync(AppDbContext db, Guid agentId, long taskId, Guid turnId, CancellationToken ct)
    {
        var last = await db.Turns.AsNoTracking()
            .Where(t => t.AgentId == agentId && t.TaskId == taskId && t.SessionId != null && t.Id != turnId)
            .OrderByDescending(t => t.StartedAt).Select(t => new { t.SessionId, t.StartedAt }).FirstOrDefaultAsync(ct);
        if (last is null) return null;
        var failedSince = await db.Turns.AnyAsync(t => t.AgentId == agentId && t.TaskId == taskId && t.Id != turnId
            && t.StartedAt > last.StartedAt && t.State == TurnState.Failed && t.SessionId == null, ct);
        return failedSince ? null : last.SessionId;
    }
}
