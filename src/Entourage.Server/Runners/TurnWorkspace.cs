using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Git;
using Entourage.Server.Merging;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Runners;

/// <summary>The repository a turn works in and the ref its new task branches start from.</summary>
public sealed record TurnRepository(string Path, string BaseRef, bool OwnClone);

/// <summary>
/// Where turns work on this node. A server works in the team's <c>repo_path</c> (as before runners existed); a
/// runner works in its own clone (<see cref="RunnerClones"/>) and, when a turn ends, commits and pushes the task
/// branch to the team's remote and brings an open review's diff up to what it pushed, since the server that
/// recorded the review could only see what had been pushed at the time.
/// </summary>
public sealed partial class TurnWorkspace(
    IDbContextFactory<AppDbContext> factory,
    IOptions<DispatchOptions> dispatch,
    IOptions<StorageOptions> storage,
    TimeProvider clock,
    ILogger<TurnWorkspace> logger)
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

    /// <summary>Runner only: publish the task branch after the agent's process ended (whatever its outcome).</summary>
    public async Task AfterTurnAsync(Turn turn, PreparedTurn prepared, TurnLogWriter log, CancellationToken ct)
    {
        if (prepared.Repository is not { OwnClone: true } repo || prepared.Branch is not { } branch || turn.TaskId is not { } taskId) return;
        string? head;
        try
        {
            head = await RunnerClones.PublishAsync(repo.Path, prepared.WorkingDirectory, branch,
                $"Work in progress on task #{taskId} (turn {turn.Id:N}, left uncommitted when the turn ended)", ct);
        }
        catch (InvalidOperationException ex)
        {
            // The work stays committed in this clone; the next turn here pushes it again.
            log.Append("[entourage] could not push the task branch: " + ex.Message);
            LogPushFailed(logger, branch, ex.Message);
            return;
        }
        if (head is null) return;
        log.Append($"[entourage] pushed {branch} at {head[..Math.Min(12, head.Length)]} to the team's remote");

        await using var db = await factory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        await TaskHooks.AddEventAsync(db, taskId, "branch_pushed", now, new { turn_id = turn.Id, node = turn.Node, branch, head }, ct);
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId, ct);
        var review = task?.Status == TaskState.InReview
            ? await db.Reviews.Where(r => r.TaskId == taskId).OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct)
            : null;
        if (review is not null && review.HeadSha != head && review.State != ReviewState.ChangesRequested)
        {
            var diff = await BranchDiff.ComputeAsync(repo.Path, repo.BaseRef, branch, ct);
            review.Diff = BranchDiff.Truncate(diff.Unified, Features.Reviews.RequestReview.MaxStoredDiff);
            review.BaseSha = diff.BaseSha;
            review.HeadSha = diff.HeadSha;
        }
        await db.SaveChangesAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not push {Branch} to the team's remote: {Error}")]
    private static partial void LogPushFailed(ILogger logger, string branch, string error);
}
