using Entourage.Client.Contracts;
using Entourage.Server.Git;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Dispatch;

/// <summary>
/// Cancelling a task (whoever does it) stops its running turn here, killing the process tree, and removes the
/// task's worktree (its branch and commits stay). Watches committed task changes rather than hooking every
/// write path, so no caller can forget it.
/// </summary>
public sealed partial class TaskCancellationWatcher(
    ChangeFeed feed,
    LocalTurns local,
    IDbContextFactory<AppDbContext> factory,
    ILogger<TaskCancellationWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var sub = feed.Subscribe(4096);
        try
        {
            await foreach (var e in sub.Reader.ReadAllAsync(stoppingToken))
            {
                if (e.Kind != "task" || e.Op != "modified" || !long.TryParse(e.Id, out var taskId)) continue;
                try
                {
                    await OnTaskChangedAsync(taskId, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogFailed(logger, taskId, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// What the watcher needs of a changed task (its worktree and its team's repository), by a hand-written statement (kept prepared on SQLite): it runs for every
    /// task change the server commits, and the EF query it replaced (the whole row, its statement prepared afresh each
    /// time on SQLite) cost about half as much CPU as the status changes themselves in a trace of the dispatch bench.
    /// </summary>
    private const string CancelledTaskSql = """
        SELECT t.worktree_path, tm.repo_path FROM tasks t JOIN teams tm ON tm.id = t.team_id
         WHERE t.id = @id AND t.status = @cancelled
        """;

    private async Task OnTaskChangedAsync(long taskId, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var cancelled = await db.OnOpenConnectionAsync(async () =>
        {
            await using var cmd = db.Command(CancelledTaskSql).With("id", taskId).With("cancelled", TaskState.Cancelled);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            return await r.ReadAsync(ct) ? (Found: true, Path: r.NullableString(0), Repo: r.NullableString(1)) : default;
        }, ct);
        if (!cancelled.Found) return;
        foreach (var t in local.All.Where(t => t.TaskId == taskId))
        {
            t.Stop(StopKind.Cancelled, $"Task {taskId} was cancelled.");
            await t.Finished.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
        }
        if (cancelled is { Path: { } path, Repo: { } repo } && Directory.Exists(path))
        {
            await Worktrees.RemoveAsync(repo, path, ct);
            LogRemoved(logger, taskId, path);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} cancelled: removed its worktree {Path} (branch kept).")]
    private static partial void LogRemoved(ILogger logger, long taskId, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handling the cancellation of task {TaskId} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, long taskId, string error);
}
