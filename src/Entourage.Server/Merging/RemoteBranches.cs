using Entourage.Client.Contracts;
using Entourage.Server.Git;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Merging;

/// <summary>
/// Task branches worked on runner nodes (issue #10): their worktree lives in the runner's own clone, so the server
/// takes the branch from the team's remote (<c>repo_url</c>) where the runner pushed it at the end of its turn, and
/// pushes the landed base branch back there for the runners' next fetch. Without <c>repo_url</c> runners push
/// straight into <c>repo_path</c> and there is nothing to fetch.
/// </summary>
public static class RemoteBranches
{
    /// <summary>True when the task's worktree is not one of the server's (<c>{repo_path}/.worktrees/…</c>).</summary>
    public static bool IsRemote(Team team, TaskItem task)
    {
        if (team.RepoPath is not { } repo || task.Branch is null || task.WorktreePath is not { } wt) return false;
        var local = Path.GetFullPath(Path.Combine(repo, Worktrees.Folder)) + Path.DirectorySeparatorChar;
        return !Path.GetFullPath(wt).StartsWith(local, StringComparison.Ordinal);
    }

    /// <summary>
    /// A remote task whose turn is still running: the runner pushes the branch when that turn ends, so merging or
    /// diffing now would take a stale branch. The merge queue waits for it.
    /// </summary>
    public static async Task<bool> AwaitingPushAsync(AppDbContext db, long taskId, CancellationToken ct)
    {
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId, ct);
        if (task is null) return false;
        var team = await db.Teams.AsNoTracking().FirstAsync(t => t.Id == task.TeamId, ct);
        return IsRemote(team, task) && await db.Turns.AnyAsync(t => t.TaskId == taskId && t.State == TurnState.Running, ct);
    }

    /// <summary>The merge queue's worktree of a remote task: in the server's own repository, like a local one.</summary>
    public static string ServerWorktree(Team team, TaskItem task) =>
        IsRemote(team, task) || task.WorktreePath is null ? MergeWorker.WorktreePathFor(team.RepoPath!, task.Branch!) : task.WorktreePath;

    /// <summary>Takes the branch as the runner pushed it (forced: the runner's push is the truth for a remote task).</summary>
    public static async Task FetchAsync(Team team, string branch, CancellationToken ct)
    {
        if (team.RepoUrl is not { } url || team.RepoPath is not { } repo) return;
        await GitCli.RunOrThrowAsync(repo, ["fetch", "--quiet", "--update-head-ok", url, $"+refs/heads/{branch}:refs/heads/{branch}"], ct);
    }

    /// <summary>Publishes the landed base branch to the team's remote; false (with git's words) when it was refused.</summary>
    public static async Task<string?> PushBaseAsync(Team team, CancellationToken ct)
    {
        if (team.RepoUrl is not { } url || team.RepoPath is not { } repo) return null;
        var r = await GitCli.RunAsync(repo, ct, "push", "--quiet", url, $"refs/heads/{team.BaseBranch}:refs/heads/{team.BaseBranch}");
        return r.Ok ? null : r.Combined.Trim();
    }
}
