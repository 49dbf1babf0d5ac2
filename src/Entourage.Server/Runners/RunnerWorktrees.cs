using System.Collections.Concurrent;
using Entourage.Server.Dispatch;
using Entourage.Server.Git;

namespace Entourage.Server.Runners;

/// <summary>
/// The task worktrees a runner made in its own clones (issue #10). Once a task is done or cancelled its worktree
/// goes (the branch stays on the team's remote): an HTTP runner learns which from its heartbeat's answer, a
/// runner on the database from <see cref="WorktreeJanitor"/>. A server's own worktrees are removed by the merge
/// queue and <see cref="TaskCancellationWatcher"/>, in the team's repo_path, as before runners existed.
/// </summary>
public sealed partial class RunnerWorktrees(LocalTurns local, ILogger<RunnerWorktrees> logger)
{
    private readonly ConcurrentDictionary<long, string> _worktrees = new();

    public void Track(long taskId, string path) => _worktrees[taskId] = path;

    public IReadOnlyList<long> Tasks => [.. _worktrees.Keys];

    /// <summary>Removes the worktrees of <paramref name="finished"/> tasks, except one a turn here still works in.</summary>
    public async Task RemoveAsync(IEnumerable<long> finished, CancellationToken ct)
    {
        var busy = local.All.Select(t => t.TaskId).ToHashSet();
        foreach (var taskId in finished)
        {
            if (busy.Contains(taskId) || !_worktrees.TryRemove(taskId, out var path) || !Directory.Exists(path)) continue;
            // Worktrees live in {clone}/.worktrees/{name}.
            var clone = Path.GetDirectoryName(Path.GetDirectoryName(path))!;
            try
            {
                await Worktrees.RemoveAsync(clone, path, ct);
                LogRemoved(logger, taskId, path);
            }
            catch (InvalidOperationException ex)
            {
                LogRemoveFailed(logger, taskId, path, ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} is finished: removed its worktree {Path} (the branch stays on the team's remote).")]
    private static partial void LogRemoved(ILogger logger, long taskId, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove the worktree {Path} of finished task {TaskId}: {Error}")]
    private static partial void LogRemoveFailed(ILogger logger, long taskId, string path, string error);
}
