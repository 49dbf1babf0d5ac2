using Entourage.Client.Contracts;
using Entourage.Server.Agents;
using Entourage.Server.Agents.Adapters;
using Entourage.Server.Git;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Dispatch;

/// <summary>A turn ready to launch; <paramref name="Repository"/> and <paramref name="Branch"/> when it works on a task branch.</summary>
public sealed record PreparedTurn(LaunchSpec Spec, string WorkingDirectory, string TurnDirectory, string? Model,
    Runners.TurnRepository? Repository = null, string? Branch = null);

/// <summary>Thrown when a turn cannot be launched (CLI missing, git failure, setup command failed).</summary>
public sealed class TurnPreparationException(string message) : Exception(message);

/// <summary>
/// The machine half of preparing a turn, on the node that runs it (no database needed, so an HTTP runner runs the
/// same code): the adapter's CLI, the working directory (the task's worktree, the manager's own detached
/// worktree, or a scratch folder when the team has no repository), the team's setup command in a new worktree,
/// the environment and the adapter's launch. What comes from the database is in the <see cref="TurnAssignment"/>.
/// </summary>
public sealed class TurnPreparation(
    AdapterCatalog catalog,
    IEnumerable<IAgentAdapter> adapters,
    Runners.TurnWorkspace workspace,
    Runners.RunnerWorktrees runnerWorktrees,
    IOptions<StorageOptions> storage)
{
    public async Task<PreparedTurn> PrepareAsync(TurnAssignment a, ITurnSink sink, TurnLogWriter log, CancellationToken ct)
    {
        var adapter = adapters.FirstOrDefault(x => x.Name == a.Adapter)
            ?? throw new TurnPreparationException($"Unknown adapter '{a.Adapter}'. Use one of: {AdapterCatalog.AllowedNames}.");
        var availability = catalog.Check(a.Adapter, a.Config);
        if (!availability.Available) throw new TurnPreparationException(availability.Reason ?? $"The {a.Adapter} CLI is not available.");

        var dataDir = Path.GetDirectoryName(storage.Value.SqlitePath)!;
        var turnDir = Path.Combine(dataDir, "turns", a.TurnId.ToString("N"));
        Directory.CreateDirectory(turnDir);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(turnDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var (workDir, repo, branch) = await WorkingDirectoryAsync(a, dataDir, log, ct);
        await sink.WorkspaceReadyAsync(a, workDir, branch is null ? null : workDir, branch, ct);

        var agent = new Agent { Id = a.AgentId, TeamId = a.TeamId, Name = a.AgentName, Role = a.AgentRole, Model = a.Model, Adapter = a.Adapter };
        var env = AgentEnvironment.Build(adapter, a.Config, a.Environment);
        var ctx = new LaunchContext(agent, a.Config, availability.Executable!, workDir, a.Prompt, a.ServerUrl, a.Token, turnDir, a.ResumeSessionId, env);
        var spec = await adapter.BuildAsync(ctx, ct);
        return new PreparedTurn(spec, workDir, turnDir, a.Model, repo, branch);
    }

    private async Task<(string Path, Runners.TurnRepository? Repo, string? Branch)> WorkingDirectoryAsync(
        TurnAssignment a, string dataDir, TurnLogWriter log, CancellationToken ct)
    {
        var team = new Team { Id = a.TeamId, Name = a.TeamSlug, Slug = a.TeamSlug, RepoPath = a.RepoPath, RepoUrl = a.RepoUrl, BaseBranch = a.BaseBranch, SetupCommand = a.SetupCommand };
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
                if (a.AgentRole == AgentRole.Manager)
                    return ((await Worktrees.EnsureManagerAsync(repo, repository.BaseRef, a.AgentName, ct)).Path, repository, null);
                if (a.TaskId is { } taskId)
                {
                    var wt = await Worktrees.EnsureTaskAsync(repo, repository.BaseRef, taskId, a.TaskTitle ?? "", ct);
                    if (repository.OwnClone) runnerWorktrees.Track(taskId, wt.Path);
                    // On a runner the task's previous turn may have run elsewhere: start from what it pushed.
                    if (repository.OwnClone && !wt.Created && wt.Branch is { } b) await Runners.RunnerClones.CatchUpAsync(wt.Path, b, ct);
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
        var scratch = Path.Combine(dataDir, "agents", a.AgentId.ToString("N"));
        Directory.CreateDirectory(scratch);
        return (scratch, null, null);
    }
}
