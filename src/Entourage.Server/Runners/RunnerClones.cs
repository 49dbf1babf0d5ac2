using System.Collections.Concurrent;
using Entourage.Server.Git;
using Entourage.Server.Storage.Entities;

namespace Entourage.Server.Runners;

/// <summary>
/// A runner's own clones of its teams' repositories (issue #10): <c>{data dir}/repos/{team id}</c>, cloned from the
/// team's <c>repo_url</c> (else its <c>repo_path</c>, when this machine can read it) and fetched before every turn,
/// so a task starts from the base branch as the merge queue last landed it. Task branches go back to the same
/// remote at the end of each turn, for the merge queue and for whichever node runs the task's next turn.
/// </summary>
public static partial class RunnerClones
{
    public const string Remote = "origin";
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new();

    /// <summary>Where runners clone from and push to; null when the team has no repository.</summary>
    public static string? SourceOf(Team team) => team.RepoUrl ?? team.RepoPath;

    /// <summary>The clone for <paramref name="team"/>, created on first use and fetched now.</summary>
    public static async Task<string> EnsureAsync(string dataDirectory, Team team, CancellationToken ct)
    {
        var source = SourceOf(team) ?? throw new InvalidOperationException($"Team {team.Slug} has no repository (repo_url or repo_path).");
        var clone = Path.Combine(dataDirectory, "repos", team.Id.ToString("N"));
        var gate = Locks.GetOrAdd(clone, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (!Directory.Exists(Path.Combine(clone, ".git")))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(clone)!);
                if (Directory.Exists(clone)) Directory.Delete(clone, recursive: true); // a clone that died half way
                await GitCli.RunOrThrowAsync(Path.GetDirectoryName(clone)!, ["clone", "--quiet", "--origin", Remote, source, clone], ct);
            }
            else
            {
                // The team may have moved its remote; follow it.
                await GitCli.RunAsync(clone, ct, "remote", "set-url", Remote, source);
            }
            await GitCli.RunOrThrowAsync(clone, ["fetch", "--quiet", "--prune", Remote], ct);
            return clone;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The ref new task branches start from: the remote's base branch as just fetched.</summary>
    public static string BaseRef(Team team) => $"{Remote}/{team.BaseBranch}";

    /// <summary>
    /// Brings an existing task worktree up to the branch as the remote has it (another runner may have run the
    /// task's last turn). Fast-forward only: each turn ends by committing and pushing, so this side is never ahead.
    /// </summary>
    public static async Task CatchUpAsync(string worktree, string branch, CancellationToken ct)
    {
        var remoteRef = $"refs/remotes/{Remote}/{branch}";
        if (!(await GitCli.RunAsync(worktree, ct, "rev-parse", "--verify", "--quiet", remoteRef)).Ok) return;
        await GitCli.RunAsync(worktree, ct, "merge", "--ff-only", "--quiet", remoteRef);
    }

    /// <summary>
    /// End of a turn on a runner: commit what the agent left uncommitted (the next turn may run on another
    /// machine), then push the branch to the team's remote. Returns the pushed head, or null when there is no branch.
    /// </summary>
    public static async Task<string?> PublishAsync(string clone, string worktree, string branch, string message, CancellationToken ct)
    {
        if (!Directory.Exists(worktree)) return null;
        var status = await GitCli.CheckedAsync(worktree, ct, "status", "--porcelain");
        if (status.Length > 0)
        {
            await GitCli.CheckedAsync(worktree, ct, "add", "-A");
            await GitCli.CheckedAsync(worktree, ct, "commit", "--quiet", "--no-verify", "-m", message);
        }
        // Forced: while a turn of the task runs, its node is the branch's only writer (one turn per agent).
        await GitCli.RunOrThrowAsync(clone, ["push", "--quiet", "--force", Remote, $"refs/heads/{branch}:refs/heads/{branch}"], ct);
        return await GitCli.CheckedAsync(worktree, ct, "rev-parse", "HEAD");
    }
}
