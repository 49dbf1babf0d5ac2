using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Entourage.Server.Git;

/// <summary>A task's worktree: where its agent works and the branch it commits on.</summary>
public sealed record WorktreeInfo(string Path, string? Branch, bool Created);

/// <summary>
/// Git worktrees (DESIGN §5): <c>{repo}/.worktrees/task-{id}-{slug}</c> on branch <c>entourage/task-{id}-{slug}</c>
/// from the team's base branch, created on a task's first claim; the manager gets a detached worktree of its own
/// on the base branch. <c>.worktrees/</c> goes to <c>.git/info/exclude</c> so it never shows as untracked.
/// Operations on one repository are serialised: git's own locks would otherwise fail concurrent adds.
/// </summary>
public static partial class Worktrees
{
    public const string Folder = ".worktrees";
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new();

    /// <summary>First three words of the title, lower-case alphanumeric, dash-joined ("create-get-patch").</summary>
    public static string Slug(string title)
    {
        var words = NonAlnum().Split(title.ToLowerInvariant()).Where(w => w.Length > 0).Take(3);
        var slug = string.Join('-', words);
        return slug.Length == 0 ? "task" : slug;
    }

    public static string TaskDirectoryName(long taskId, string title) => $"task-{taskId}-{Slug(title)}";

    public static string TaskBranch(long taskId, string title) => $"entourage/{TaskDirectoryName(taskId, title)}";

    public static async Task<WorktreeInfo> EnsureTaskAsync(string repo, string baseBranch, long taskId, string title, CancellationToken ct)
    {
        var name = TaskDirectoryName(taskId, title);
        var path = Path.Combine(repo, Folder, name);
        var branch = TaskBranch(taskId, title);
        return await WithRepoLockAsync(repo, async () =>
        {
            if (Directory.Exists(path) && (File.Exists(Path.Combine(path, ".git")) || Directory.Exists(Path.Combine(path, ".git"))))
                return new WorktreeInfo(path, branch, false);
            await PrepareAsync(repo, ct);
            var exists = (await GitCli.RunAsync(repo, ["rev-parse", "--verify", "--quiet", "refs/heads/" + branch], ct)).Ok;
            // A runner's clone may only know the branch from the remote (an earlier turn ran on another node).
            var remote = !exists && (await GitCli.RunAsync(repo, ["rev-parse", "--verify", "--quiet", "refs/remotes/origin/" + branch], ct)).Ok;
            // A retried task reuses its branch (and the work already on it); a new one branches off the base.
            List<string> args = exists ? ["worktree", "add", path, branch]
                : remote ? ["worktree", "add", "-b", branch, path, "origin/" + branch]
                : ["worktree", "add", "--no-track", "-b", branch, path, baseBranch];
            await GitCli.RunOrThrowAsync(repo, args, ct);
            return new WorktreeInfo(path, branch, true);
        }, ct);
    }

    /// <summary>The manager's read-only view: a detached worktree at the tip of the base branch, refreshed each turn.</summary>
    public static async Task<WorktreeInfo> EnsureManagerAsync(string repo, string baseBranch, string agentName, CancellationToken ct)
    {
        var path = Path.Combine(repo, Folder, "manager-" + Slug(agentName));
        return await WithRepoLockAsync(repo, async () =>
        {
            await PrepareAsync(repo, ct);
            if (Directory.Exists(path) && File.Exists(Path.Combine(path, ".git")))
            {
                await GitCli.RunAsync(path, ["checkout", "--detach", "--quiet", baseBranch], ct);
                return new WorktreeInfo(path, null, false);
            }
            await GitCli.RunOrThrowAsync(repo, ["worktree", "add", "--detach", path, baseBranch], ct);
            return new WorktreeInfo(path, null, true);
        }, ct);
    }

    /// <summary>
    /// Re-creates a task's worktree on its existing branch (the merge queue, after a restart or a manual cleanup),
    /// under the repository's lock like every other add.
    /// </summary>
    public static async Task RestoreAsync(string repo, string path, string branch, CancellationToken ct)
    {
        await WithRepoLockAsync(repo, async () =>
        {
            await GitCli.RunAsync(repo, ["worktree", "prune"], ct);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await GitCli.RunOrThrowAsync(repo, ["worktree", "add", path, branch], ct);
            return true;
        }, ct);
    }

    /// <summary>Removes a worktree (after merge or cancel); its branch and commits stay.</summary>
    public static async Task RemoveAsync(string repo, string path, CancellationToken ct)
    {
        await WithRepoLockAsync(repo, async () =>
        {
            if (Directory.Exists(path)) await GitCli.RunAsync(repo, ["worktree", "remove", "--force", path], ct);
            await GitCli.RunAsync(repo, ["worktree", "prune"], ct);
            return true;
        }, ct);
    }

    /// <summary>Runs the team's setup command (a shell line the team configured) in a new worktree.</summary>
    public static async Task<(int ExitCode, string Output)> RunSetupAsync(string worktree, string command, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("/bin/sh") { WorkingDirectory = worktree, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start /bin/sh for the setup command.");
        var output = new StringBuilder();
        var o = p.StandardOutput.ReadToEndAsync(ct);
        var e = p.StandardError.ReadToEndAsync(ct);
        try { await p.WaitForExitAsync(ct); }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
        output.Append(await o).Append(await e);
        return (p.ExitCode, output.ToString());
    }

    private static async Task PrepareAsync(string repo, CancellationToken ct)
    {
        var gitDir = await GitCli.RunOrThrowAsync(repo, ["rev-parse", "--git-common-dir"], ct);
        if (!Path.IsPathRooted(gitDir)) gitDir = Path.GetFullPath(Path.Combine(repo, gitDir));
        var info = Path.Combine(gitDir, "info");
        Directory.CreateDirectory(info);
        var exclude = Path.Combine(info, "exclude");
        var lines = File.Exists(exclude) ? await File.ReadAllLinesAsync(exclude, ct) : [];
        if (!lines.Any(l => l.Trim() is "/.worktrees/" or ".worktrees/" or "/.worktrees" or ".worktrees"))
            await File.AppendAllTextAsync(exclude, (lines.Length > 0 && lines[^1].Length > 0 ? "\n" : "") + "/.worktrees/\n", ct);
    }

    private static async Task<T> WithRepoLockAsync<T>(string repo, Func<Task<T>> body, CancellationToken ct)
    {
        var gate = Locks.GetOrAdd(Path.GetFullPath(repo), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try { return await body(); }
        finally { gate.Release(); }
    }

    [GeneratedRegex("[^a-z0-9]+", RegexOptions.CultureInvariant)]
    private static partial Regex NonAlnum();
}
