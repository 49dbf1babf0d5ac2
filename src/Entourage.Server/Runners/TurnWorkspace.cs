using Entourage.Server.Dispatch;
using Entourage.Server.Merging;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Runners;

/// <summary>The repository a turn works in and the ref its new task branches start from.</summary>
public sealed record TurnRepository(string Path, string BaseRef, bool OwnClone);

/// <summary>
/// Where turns work on this node. A server works in the team's <c>repo_path</c> (as before runners existed); a
/// runner (on the database or over HTTP) works in its own clone (<see cref="RunnerClones"/>) and, when a turn
/// ends, commits and pushes the task branch to the team's remote, with the branch's diff so the server can bring
/// an open review up to what was pushed.
/// </summary>
public sealed class TurnWorkspace(IOptions<DispatchOptions> dispatch, IOptions<StorageOptions> storage)
{
    public bool OwnClones => dispatch.Value.Role == "runner";

    /// <summary>The repository for a turn of <paramref name="team"/>, or null when the team works without one.</summary>
    public async Task<TurnRepository?> RepositoryAsync(Team team, CancellationToken ct)
    {
        if (!OwnClones)
            return team.RepoPath is { Length: > 0 } repo && Directory.Exists(repo) ? new TurnRepository(repo, team.BaseBranch, false) : null;
        if (RunnerClones.SourceOf(team) is null) return null;
        var dataDir = Path.GetDirectoryName(storage.Value.SqlitePath)!;
        return new TurnRepository(await RunnerClones.EnsureAsync(dataDir, team, ct), RunnerClones.BaseRef(team), true);
    }

    /// <summary>
    /// Runner only: publish the task branch after the agent's process ended (whatever its outcome). Null when there
    /// is nothing to publish; a publication without a head when the push failed (the work stays committed in this
    /// clone and the next turn here pushes it again).
    /// </summary>
    public async Task<TurnPublication?> AfterTurnAsync(long? taskId, Guid turnId, PreparedTurn prepared, TurnLogWriter log, CancellationToken ct)
    {
        if (prepared.Repository is not { OwnClone: true } repo || prepared.Branch is not { } branch || taskId is not { } id) return null;
        string? head;
        try
        {
            head = await RunnerClones.PublishAsync(repo.Path, prepared.WorkingDirectory, branch,
                $"Work in progress on task #{id} (turn {turnId:N}, left uncommitted when the turn ended)", ct);
        }
        catch (InvalidOperationException ex)
        {
            log.Append("[entourage] could not push the task branch: " + ex.Message);
            return new TurnPublication(branch, null, ex.Message);
        }
        if (head is null) return null;
        log.Append($"[entourage] pushed {branch} at {head[..Math.Min(12, head.Length)]} to the team's remote");
        try
        {
            var diff = await BranchDiff.ComputeAsync(repo.Path, repo.BaseRef, branch, ct);
            return new TurnPublication(branch, head, null, diff.BaseSha, diff.Unified);
        }
        catch (InvalidOperationException)
        {
            return new TurnPublication(branch, head, null);
        }
    }
}
