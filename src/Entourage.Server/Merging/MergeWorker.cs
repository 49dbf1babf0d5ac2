using Entourage.Server.Dispatch;
using Entourage.Server.Git;
using Entourage.Server.Hosting;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Merging;

/// <summary>
/// The merge queue's worker: takes approved tasks one at a time (so a repository sees one merge at a time), and
/// for each rebases, checks and lands it (<see cref="MergeSteps"/>). Every step is recorded in the queue row before
/// the next begins; after a crash the row says where to resume and the base branch says whether the candidate
/// already landed, so nothing lands twice.
/// </summary>
public sealed partial class MergeWorker(
    IServiceScopeFactory scopes,
    ChangeFeed feed,
    TimeProvider clock,
    IOptions<MergeOptions> options,
    IOptions<StorageOptions> storage,
    NodeIdentity node,
    IHostApplicationLifetime lifetime,
    ILogger<MergeWorker> logger) : BackgroundService
{
    private const int MaxRounds = 5;
    private const int MaxAttempts = 5;

    /// <summary>
    /// The owner of this process's queue leases: the node's id, which on PostgreSQL carries its stable name
    /// (<see cref="NodeIdentity"/>), so a restart of the same node resumes the merge its dead predecessor was
    /// running at once instead of waiting out that lease. Read only once the host has started: the node-name lock
    /// fixes the id first.
    /// </summary>
    public string NodeId => node.Id;

    /// <summary>Ids of this node's dead predecessors start with this (PostgreSQL, a node holding its stable name).</summary>
    private string? PredecessorPrefix => node.StableName is { } name ? name + NodeIdentity.NameSeparator : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Woken by queue changes only, picked out on the committing thread: a feed subscription woke this loop on
        // a thread-pool thread for every committed change of the server (a status change publishes four), on the
        // same two cores as the dispatcher claiming the turn that change caused. Registered before the first look,
        // so a change committed after it is never missed.
        using var wake = new WakeSignal();
        using var observation = feed.Observe(e =>
        {
            if (e.Kind == "merge_queue_item") wake.Signal();
        });
        // The node id is fixed at its first read, which must come after the node-name lock took the stable name.
        try { await lifetime.WaitAsync(stoppingToken); }
        catch (OperationCanceledException) { return; }
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var didWork = false;
            try
            {
                didWork = await RunOnceAsync(stoppingToken);
                failures = 0;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                LogLoopFailed(logger, ex);
            }
            if (didWork) continue;
            var idle = failures > 0
                ? TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, failures)))
                : TimeSpan.FromSeconds(Math.Max(1, options.Value.PollSeconds));
            try { await wake.WaitAsync(idle, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Claims and processes one queue item; false when there was nothing to do.</summary>
    public async Task<bool> RunOnceAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var item = await ClaimAsync(db, ct);
        if (item is null) return false;

        using var renew = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var renewal = RenewLeaseAsync(item.Id, renew.Token);
        try
        {
            await ProcessAsync(db, item, ct);
        }
        catch (GitException ex)
        {
            LogGitFailed(logger, item.TaskId, ex);
            // Left running: the lease expires (or the next start reclaims it) and the merge is retried from its
            // recorded step; after MaxAttempts it is given up.
        }
        finally
        {
            await renew.CancelAsync();
            try { await renewal; } catch (OperationCanceledException) { }
        }
        return true;
    }

    private async Task<MergeQueueItem?> ClaimAsync(AppDbContext db, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // SQLite runs one server process (a file lock guarantees it), so a running item found here was left by a
        // crashed predecessor and can be resumed at once. On PostgreSQL other nodes may be alive: wait for the lease.
        // So can an item whose owner was this node before a restart (its id carries the node's stable name).
        var singleNode = !storage.Value.UsePostgres;
        var (self, predecessor) = (NodeId, PredecessorPrefix);
        var candidates = await db.MergeQueue
            .Where(m => m.State == MergeState.Queued || (m.State == MergeState.Running &&
                (singleNode || m.LeaseUntil == null || m.LeaseUntil < now || (predecessor != null && m.Owner != self && m.Owner!.StartsWith(predecessor)))))
            .OrderBy(m => m.Id).Take(20).AsNoTracking().ToListAsync(ct);
        foreach (var c in candidates)
        {
            if (!singleNode && await RepositoryBusyAsync(db, c, now, self, predecessor, ct)) continue;
            if (!singleNode && await RemoteBranches.AwaitingPushAsync(db, c.TaskId, ct)) continue;
            var lease = now.AddSeconds(options.Value.LeaseSeconds);
            var won = await db.MergeQueue.Where(m => m.Id == c.Id && m.State == c.State && m.UpdatedAt == c.UpdatedAt)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(m => m.State, MergeState.Running)
                    .SetProperty(m => m.Owner, NodeId)
                    .SetProperty(m => m.LeaseUntil, lease)
                    .SetProperty(m => m.Attempts, m => m.Attempts + 1)
                    .SetProperty(m => m.UpdatedAt, now), ct);
            if (won == 1) return await db.MergeQueue.FirstAsync(m => m.Id == c.Id, ct);
        }
        return null;
    }

    /// <summary>Another live node is merging into the same repository right now (serial per repository).</summary>
    private static async Task<bool> RepositoryBusyAsync(AppDbContext db, MergeQueueItem c, DateTime now, string self, string? predecessor, CancellationToken ct)
    {
        var repo = await db.Teams.Where(t => t.Id == c.TeamId).Select(t => t.RepoPath).FirstOrDefaultAsync(ct);
        return await (from m in db.MergeQueue
                      join t in db.Teams on m.TeamId equals t.Id
                      where m.Id != c.Id && m.State == MergeState.Running && m.LeaseUntil > now && t.RepoPath == repo
                            && !(predecessor != null && m.Owner != self && m.Owner!.StartsWith(predecessor))
                      select m.Id).AnyAsync(ct);
    }

    private async Task RenewLeaseAsync(long id, CancellationToken ct)
    {
        var every = TimeSpan.FromSeconds(Math.Max(1, options.Value.LeaseSeconds / 3.0));
        using var timer = new PeriodicTimer(every, clock);
        while (await timer.WaitForNextTickAsync(ct))
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var lease = clock.GetUtcNow().UtcDateTime.AddSeconds(options.Value.LeaseSeconds);
            await db.MergeQueue.Where(m => m.Id == id && m.Owner == NodeId && m.State == MergeState.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.LeaseUntil, lease), ct);
        }
    }

    private async Task ProcessAsync(AppDbContext db, MergeQueueItem item, CancellationToken ct)
    {
        var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == item.TaskId, ct);
        if (task is null || task.Status != TaskState.InReview)
        {
            await MergeOutcomes.AbandonedAsync(db, item, task, task is null ? "The task no longer exists." : $"Task {task.Id} is {EnumNames.ToSnake(task.Status)}; only tasks in review are merged.", Now, ct);
            return;
        }
        var team = await db.Teams.FirstAsync(t => t.Id == task.TeamId, ct);
        if (team.RepoPath is null || task.Branch is null)
        {
            // Nothing in git to land (no repository, or the task never had a branch): approval completes it.
            await MergeOutcomes.LandedAsync(db, item, task, team, null, Now, ct);
            return;
        }
        if (item.Attempts > MaxAttempts)
        {
            await MergeOutcomes.AbandonedAsync(db, item, task, $"Gave up after {MaxAttempts} attempts: {item.Error ?? "the merge kept failing"}. Fix the repository, then POST /api/v1/tasks/{task.Id}/merge to retry.", Now, ct);
            return;
        }
        var author = task.AssigneeId is { } a ? await db.Agents.Where(x => x.Id == a).Select(x => x.Name).FirstOrDefaultAsync(ct) : null;
        var target = new MergeTarget(team.RepoPath, team.BaseBranch, task.Branch, RemoteBranches.ServerWorktree(team, task),
            team.MergeStrategy, task.Title, task.Id, author ?? "entourage");
        if (RemoteBranches.IsRemote(team, task) && item.Phase is not ("landing" or "finishing")) await RemoteBranches.FetchAsync(team, task.Branch, ct);

        for (var round = 0; round < MaxRounds; round++)
        {
            if (item.Phase == "finishing" && (item.CandidateSha is null || await MergeSteps.LandedAsync(target, item.CandidateSha, ct))) break;
            if (item.Phase == "landing" && item.CandidateSha is { } landed && await MergeSteps.LandedAsync(target, landed, ct))
            {
                await RecordAsync(db, item, "finishing", ct);
                break;
            }
            var checkPassed = item.Phase == "landing" && item.CandidateSha is not null && await MergeSteps.BaseHeadAsync(target, ct) == item.BaseSha;
            if (!checkPassed)
            {
                await RecordAsync(db, item, "preparing", ct);
                var prepared = await MergeSteps.PrepareAsync(target, ct);
                switch (prepared)
                {
                    case PrepareResult.Conflict c:
                        await SendBackConflictAsync(db, item, task, target, c, ct);
                        return;
                    case PrepareResult.Broken b:
                        await MergeOutcomes.AbandonedAsync(db, item, task, b.Reason, Now, ct);
                        return;
                    case PrepareResult.Ready { CandidateSha: null } r:
                        item.BaseSha = r.BaseSha;
                        item.CandidateSha = null;
                        await RecordAsync(db, item, "finishing", ct);
                        round = MaxRounds;
                        continue;
                    case PrepareResult.Ready r:
                        item.BaseSha = r.BaseSha;
                        item.CandidateSha = r.CandidateSha;
                        await RecordAsync(db, item, "checking", ct);
                        break;
                }
                if (!string.IsNullOrWhiteSpace(team.CheckCommand))
                {
                    LogChecking(logger, task.Id, team.CheckCommand);
                    var check = await ChildProcess.RunShellAsync(target.Worktree, team.CheckCommand, TimeSpan.FromMinutes(options.Value.CheckTimeoutMinutes), ct);
                    if (!check.Ok)
                    {
                        await SendBackCheckFailedAsync(db, item, task, target, team.CheckCommand, check, ct);
                        return;
                    }
                }
                await RecordAsync(db, item, "landing", ct);
            }

            var error = await MergeSteps.LandAsync(target, item.BaseSha!, item.CandidateSha!, ct);
            if (error == "moved")
            {
                // Someone moved the base branch between our rebase and the swap: rebase again on the new base.
                LogBaseMoved(logger, task.Id);
                item.Phase = "queued";
                continue;
            }
            if (error is not null)
            {
                await MergeOutcomes.AbandonedAsync(db, item, task, error, Now, ct);
                return;
            }
            await RecordAsync(db, item, "finishing", ct);
            break;
        }
        if (item.Phase != "finishing")
        {
            await MergeOutcomes.AbandonedAsync(db, item, task, $"The base branch {team.BaseBranch} kept moving during {MaxRounds} merge attempts; approve again to retry.", Now, ct);
            return;
        }
        if (await RemoteBranches.PushBaseAsync(team, ct) is { } refused)
            LogPushRefused(logger, task.Id, team.BaseBranch, refused);
        await MergeSteps.RemoveWorktreeAsync(target, ct);
        await MergeOutcomes.LandedAsync(db, item, task, team, item.CandidateSha, Now, ct);
        LogMerged(logger, task.Id, team.BaseBranch, item.CandidateSha ?? "(no changes)");
    }

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    private async Task RecordAsync(AppDbContext db, MergeQueueItem item, string phase, CancellationToken ct)
    {
        item.Phase = phase;
        item.UpdatedAt = Now;
        await db.SaveChangesAsync(ct);
    }

    private Task SendBackConflictAsync(AppDbContext db, MergeQueueItem item, TaskItem task, MergeTarget t, PrepareResult.Conflict c, CancellationToken ct)
    {
        var files = string.Join(", ", c.Files);
        var error = $"Conflicts with {t.BaseBranch} in: {files}";
        var message =
            $"Merging task #{task.Id} (\"{task.Title}\") into {t.BaseBranch} failed: your branch {t.Branch} conflicts with changes that landed on {t.BaseBranch} meanwhile, in:\n" +
            string.Join('\n', c.Files.Select(f => $"  - {f}")) +
            $"\n\nIn your worktree run `git rebase {t.BaseBranch}`, resolve the conflicts in those files (keep both intents), `git add` them, " +
            "`git rebase --continue`, run the tests, and call request_review again.";
        return MergeOutcomes.SentBackAsync(db, item, task, error, message, Now, ct);
    }

    private Task SendBackCheckFailedAsync(AppDbContext db, MergeQueueItem item, TaskItem task, MergeTarget t, string command, ProcessResult check, CancellationToken ct)
    {
        var tail = MergeSteps.Tail(check.Combined, options.Value.OutputTailChars);
        var error = $"Check command failed (exit {check.ExitCode}): {command}";
        var message =
            $"Merging task #{task.Id} (\"{task.Title}\") into {t.BaseBranch} stopped: the team's check command `{command}` failed (exit code {check.ExitCode}) " +
            $"on your branch rebased onto the current {t.BaseBranch}. {t.BaseBranch} was not changed. The end of its output:\n\n```\n{tail}\n```\n\n" +
            $"Fix it in your worktree (your branch is now rebased onto {t.BaseBranch}), commit, run `{command}` yourself, and call request_review again.";
        return MergeOutcomes.SentBackAsync(db, item, task, error, message, Now, ct);
    }

    /// <summary>The dispatcher's worktree layout: {repo}/.worktrees/{branch without the entourage/ prefix}.</summary>
    public static string WorktreePathFor(string repo, string branch) =>
        Path.Combine(repo, ".worktrees", branch.StartsWith("entourage/", StringComparison.Ordinal) ? branch["entourage/".Length..] : branch.Replace('/', '-'));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} landed, but pushing {BaseBranch} to the team's remote was refused (runners will not see it until it is pushed): {Error}")]
    private static partial void LogPushRefused(ILogger logger, long taskId, string baseBranch, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Merge queue iteration failed; backing off.")]
    private static partial void LogLoopFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Merging task {TaskId} hit a git error; it will be retried from its recorded step.")]
    private static partial void LogGitFailed(ILogger logger, long taskId, Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId}: running check command {Command}.")]
    private static partial void LogChecking(ILogger logger, long taskId, string command);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId}: the base branch moved during the merge; rebasing again.")]
    private static partial void LogBaseMoved(ILogger logger, long taskId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} merged into {BaseBranch} as {Sha}.")]
    private static partial void LogMerged(ILogger logger, long taskId, string baseBranch, string sha);
}
