using Entourage.Client.Contracts;
using Entourage.Server.Agents;
using Entourage.Server.Agents.Adapters;
using Entourage.Server.Features.Agents;
using Entourage.Server.Git;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Dispatch;

/// <summary>A turn ready to launch; <paramref name="Repository"/> and <paramref name="Branch"/> when it works on a task branch.</summary>
public sealed record PreparedTurn(LaunchSpec Spec, string WorkingDirectory, string TurnDirectory, string? Model,
    Runners.TurnRepository? Repository = null, string? Branch = null);

/// <summary>Thrown when a turn cannot be launched (CLI missing, git failure, setup command failed).</summary>
public sealed class TurnPreparationException(string message) : Exception(message);

/// <summary>
/// Everything before the process starts: the working directory (the task's worktree, the manager's own detached
/// worktree, or a scratch folder when the team has no repository), the team's setup command in a new worktree,
/// the prompt, the resumed session, the environment and the adapter's launch.
/// </summary>
public sealed class TurnPreparation(
    IDbContextFactory<AppDbContext> factory,
    AdapterCatalog catalog,
    IEnumerable<IAgentAdapter> adapters,
    ServerAddress address,
    Runners.TurnWorkspace workspace,
    IOptions<StorageOptions> storage)
{
    public async Task<PreparedTurn> PrepareAsync(ClaimedTurn claimed, TurnLogWriter log, CancellationToken ct)
    {
        var turn = claimed.Turn;
        await using var db = await factory.CreateDbContextAsync(ct);
        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == turn.AgentId, ct)
            ?? throw new TurnPreparationException("The agent was deleted.");
        var team = await db.Teams.AsNoTracking().FirstAsync(t => t.Id == turn.TeamId, ct);
        var task = turn.TaskId is { } tid ? await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == tid, ct) : null;
        var config = AgentViews.ParseConfig(agent.ConfigJson);

        var adapter = adapters.FirstOrDefault(a => a.Name == agent.Adapter)
            ?? throw new TurnPreparationException($"Unknown adapter '{agent.Adapter}'. Use one of: {AdapterCatalog.AllowedNames}.");
        var availability = catalog.Check(agent.Adapter, config);
        if (!availability.Available) throw new TurnPreparationException(availability.Reason ?? $"The {agent.Adapter} CLI is not available.");

        var dataDir = Path.GetDirectoryName(storage.Value.SqlitePath)!;
        var turnDir = Path.Combine(dataDir, "turns", turn.Id.ToString("N"));
        Directory.CreateDirectory(turnDir);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(turnDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var (workDir, repo, branch) = await WorkingDirectoryAsync(db, agent, team, task, dataDir, log, ct);
        await db.Turns.Where(t => t.Id == turn.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.WorkingDirectory, workDir), ct);

        var resume = adapter.ResumesSessions && task is not null ? await SessionToResumeAsync(db, agent.Id, task.Id, turn.Id, ct) : null;

        var prompt = await PromptBuilder.BuildAsync(db, agent, team, task, claimed.Requests, ct);
        var env = AgentEnvironment.Build(adapter, agent, config, address.Url, claimed.Token, task?.Id, turn.Id, turn.Attempt);
        var ctx = new LaunchContext(agent, config, availability.Executable!, workDir, prompt, address.Url, claimed.Token, turnDir, resume, env);
        var spec = await adapter.BuildAsync(ctx, ct);
        return new PreparedTurn(spec, workDir, turnDir, agent.Model, repo, branch);
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

    private async Task<(string Path, Runners.TurnRepository? Repo, string? Branch)> WorkingDirectoryAsync(
        AppDbContext db, Agent agent, Team team, TaskItem? task, string dataDir, TurnLogWriter log, CancellationToken ct)
    {
        Runners.TurnRepository? repository;
        try
        {
            repository = await workspace.RepositoryAsync(team, ct);
        }
        catch (InvalidOperationException ex)
        {
            throw new TurnPreparationException("Could not prepare this node's clone of the team's repository: " + ex.Message);
        }
        if (repository is { Path: var repo })
        {
            try
            {
                if (agent.Role == AgentRole.Manager)
                    return ((await Worktrees.EnsureManagerAsync(repo, repository.BaseRef, agent.Name, ct)).Path, repository, null);
                if (task is not null)
                {
                    var wt = await Worktrees.EnsureTaskAsync(repo, repository.BaseRef, task.Id, task.Title, ct);
                    // On a runner the task's previous turn may have run elsewhere: start from what it pushed.
                    if (repository.OwnClone && !wt.Created && wt.Branch is { } b) await Runners.RunnerClones.CatchUpAsync(wt.Path, b, ct);
                    if (task.WorktreePath != wt.Path || task.Branch != wt.Branch)
                        await db.Tasks.Where(t => t.Id == task.Id).ExecuteUpdateAsync(s => s
                            .SetProperty(t => t.WorktreePath, wt.Path)
                            .SetProperty(t => t.Branch, wt.Branch), ct);
                    if (wt.Created && team.SetupCommand is { Length: > 0 } setup)
                    {
                        log.Append($"[entourage] setup: {setup}");
                        var (code, output) = await Worktrees.RunSetupAsync(wt.Path, setup, ct);
                        foreach (var line in output.Split('\n')) log.Append(line);
                        if (code != 0) throw new TurnPreparationException($"The team's setup command exited with {code} in {wt.Path}.");
                    }
                    return (wt.Path, repository, wt.Branch);
                }
            }
            catch (InvalidOperationException ex)
            {
                throw new TurnPreparationException(ex.Message);
            }
        }
        var scratch = Path.Combine(dataDir, "agents", agent.Id.ToString("N"));
        Directory.CreateDirectory(scratch);
        return (scratch, null, null);
    }
}
