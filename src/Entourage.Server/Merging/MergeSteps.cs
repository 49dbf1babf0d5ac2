using Entourage.Server.Git;

namespace Entourage.Server.Merging;

/// <summary>What preparing a candidate produced.</summary>
public abstract record PrepareResult
{
    /// <summary>The commit to put on the base branch, built on <paramref name="BaseSha"/>; null when the branch adds nothing.</summary>
    public sealed record Ready(string BaseSha, string? CandidateSha) : PrepareResult;

    public sealed record Conflict(IReadOnlyList<string> Files, string Output) : PrepareResult;

    public sealed record Broken(string Reason) : PrepareResult;
}

/// <summary>Where the merge happens: the repository, its base branch, the task's branch and worktree.</summary>
public sealed record MergeTarget(string RepoPath, string BaseBranch, string Branch, string Worktree, string Strategy, string Title, long TaskId, string AuthorName);

/// <summary>
/// The git side of landing a task, each step safe to repeat after a crash: rebase the branch on the current base
/// in its worktree, build the candidate commit for the team's strategy, and move the base branch to it only if the
/// base has not moved since (compare-and-swap), so a change can never land twice.
/// </summary>
public static class MergeSteps
{
    public static async Task<PrepareResult> PrepareAsync(MergeTarget t, CancellationToken ct)
    {
        if (!(await GitCli.RunAsync(t.RepoPath, ct, "rev-parse", "--verify", "--quiet", $"refs/heads/{t.Branch}")).Ok)
            return new PrepareResult.Broken($"The branch {t.Branch} no longer exists in {t.RepoPath}.");
        await EnsureWorktreeAsync(t, ct);

        // A crash may have left a rebase half done or check artifacts behind; the branch's commits are the truth.
        await GitCli.RunAsync(t.Worktree, ct, "rebase", "--abort");
        var status = await GitCli.CheckedAsync(t.Worktree, ct, "status", "--porcelain");
        if (status.Length > 0)
        {
            await GitCli.CheckedAsync(t.Worktree, ct, "reset", "--hard", "HEAD");
            await GitCli.CheckedAsync(t.Worktree, ct, "clean", "-fd");
        }

        var baseSha = await GitCli.CheckedAsync(t.RepoPath, ct, "rev-parse", "--verify", $"refs/heads/{t.BaseBranch}^{{commit}}");
        var rebase = await GitCli.RunAsync(t.Worktree, ct, "rebase", baseSha);
        if (!rebase.Ok)
        {
            var files = (await GitCli.RunAsync(t.Worktree, ct, "diff", "--name-only", "--diff-filter=U")).StdOut
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            await GitCli.RunAsync(t.Worktree, ct, "rebase", "--abort");
            if (files.Count == 0) return new PrepareResult.Broken($"git rebase failed: {Tail(rebase.Combined, 2000)}");
            return new PrepareResult.Conflict(files, rebase.Combined);
        }

        var head = await GitCli.CheckedAsync(t.Worktree, ct, "rev-parse", "HEAD");
        if (head == baseSha) return new PrepareResult.Ready(baseSha, null);
        var message = $"{t.Title} (task #{t.TaskId})";
        var candidate = t.Strategy switch
        {
            "rebase" => head,
            "merge" => await CommitTreeAsync(t, head, [baseSha, head], $"Merge {t.Branch}: {message}", ct),
            _ => await CommitTreeAsync(t, head, [baseSha], message + "\n\nSquashed from " + t.Branch + ".", ct),
        };
        return new PrepareResult.Ready(baseSha, candidate);
    }

    private static async Task<string> CommitTreeAsync(MergeTarget t, string head, string[] parents, string message, CancellationToken ct)
    {
        var args = new List<string> { "commit-tree", $"{head}^{{tree}}" };
        foreach (var p in parents) { args.Add("-p"); args.Add(p); }
        args.Add("-m");
        args.Add(message);
        var email = new string(t.AuthorName.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '-').ToArray());
        var env = new Dictionary<string, string> { ["GIT_AUTHOR_NAME"] = t.AuthorName, ["GIT_AUTHOR_EMAIL"] = $"{email}@entourage.local" };
        var r = await GitCli.RunAsync(t.Worktree, args, env, ct);
        if (!r.Ok) throw new GitException($"git commit-tree failed: {r.Combined.Trim()}", r);
        return r.StdOut.Trim();
    }

    /// <summary>Re-creates the task's worktree on its branch when it is gone (a restart or a manual cleanup).</summary>
    public static async Task EnsureWorktreeAsync(MergeTarget t, CancellationToken ct)
    {
        if (Directory.Exists(t.Worktree) && (await GitCli.RunAsync(t.Worktree, ct, "rev-parse", "--git-dir")).Ok) return;
        await Worktrees.RestoreAsync(t.RepoPath, t.Worktree, t.Branch, ct);
    }

    /// <summary>True when the base branch already contains <paramref name="candidate"/> (it landed before a crash).</summary>
    public static async Task<bool> LandedAsync(MergeTarget t, string candidate, CancellationToken ct) =>
        (await GitCli.RunAsync(t.RepoPath, ct, "merge-base", "--is-ancestor", candidate, $"refs/heads/{t.BaseBranch}")).Ok;

    public static Task<string> BaseHeadAsync(MergeTarget t, CancellationToken ct) =>
        GitCli.CheckedAsync(t.RepoPath, ct, "rev-parse", "--verify", $"refs/heads/{t.BaseBranch}^{{commit}}");

    /// <summary>
    /// Fast-forwards the base branch from <paramref name="expectedBase"/> to <paramref name="candidate"/>. When the
    /// repository's own checkout is on the base branch, its files move too (merge --ff-only); otherwise the ref is
    /// swapped atomically. Returns an error to report, or null on success.
    /// </summary>
    public static async Task<string?> LandAsync(MergeTarget t, string expectedBase, string candidate, CancellationToken ct)
    {
        var checkedOut = await GitCli.RunAsync(t.RepoPath, ct, "symbolic-ref", "--quiet", "--short", "HEAD");
        if (checkedOut.Ok && checkedOut.StdOut.Trim() == t.BaseBranch)
        {
            if (await BaseHeadAsync(t, ct) != expectedBase) return "moved";
            var ff = await GitCli.RunAsync(t.RepoPath, ct, "merge", "--ff-only", "--no-edit", candidate);
            return ff.Ok ? null : $"The checkout at {t.RepoPath} is on {t.BaseBranch} and could not move forward: {Tail(ff.Combined, 1500)} Commit or stash the local changes there.";
        }
        var swap = await GitCli.RunAsync(t.RepoPath, ct, "update-ref", "-m", $"entourage: land task #{t.TaskId}", $"refs/heads/{t.BaseBranch}", candidate, expectedBase);
        return swap.Ok ? null : "moved";
    }

    /// <summary>Removes the task's worktree after it landed; the branch stays for history.</summary>
    public static async Task RemoveWorktreeAsync(MergeTarget t, CancellationToken ct)
    {
        // Through the dispatcher's per-repository lock: concurrent worktree adds and removes trip git's own locks.
        await Git.Worktrees.RemoveAsync(t.RepoPath, t.Worktree, ct);
    }

    public static string Tail(string s, int max)
    {
        s = s.TrimEnd();
        return s.Length <= max ? s : "…" + s[^max..];
    }
}
