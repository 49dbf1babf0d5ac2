using System.Collections.Concurrent;
using System.Diagnostics;

namespace Entourage.Server.Git;

/// <summary>A git command failed; <see cref="Result"/> has what it printed.</summary>
public sealed class GitException(string message, ProcessResult result) : InvalidOperationException(message)
{
    public ProcessResult Result { get; } = result;
}

/// <summary>
/// The one way the server runs git (worktrees, review diffs, the merge queue, runner clones). Arguments always go
/// through ArgumentList, never a shell string, so branch names and paths cannot inject anything; git never waits
/// for a person (no prompt, editor or pager); a repository without an identity commits as Entourage.
/// </summary>
public static class GitCli
{
    /// <summary>Who git commits as when the repository and user config name nobody.</summary>
    private static readonly string[] Identity = ["-c", "user.name=Entourage", "-c", "user.email=entourage@localhost"];

    private static readonly ConcurrentDictionary<string, bool> IdentityKnown = new(StringComparer.Ordinal);

    public static Task<ProcessResult> RunAsync(string workDir, IEnumerable<string> args, CancellationToken ct) =>
        RunAsync(workDir, [.. args], null, ct);

    public static Task<ProcessResult> RunAsync(string workDir, CancellationToken ct, params string[] args) =>
        RunAsync(workDir, args, null, ct);

    public static async Task<ProcessResult> RunAsync(string workDir, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = workDir };
        // An unset identity must not break a rebase on a fresh machine; a configured one still wins because we
        // only add `-c` when the repository and user config say nothing.
        if (!await HasIdentityAsync(workDir, ct)) foreach (var a in Identity) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        psi.Environment["GIT_EDITOR"] = "true";
        psi.Environment["GIT_SEQUENCE_EDITOR"] = "true";
        psi.Environment["GIT_PAGER"] = "cat";
        psi.Environment["LC_ALL"] = "C";
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        var result = await ChildProcess.RunAsync(psi, null, ct);
        // Another process was adding a worktree of this repository at that moment (WorktreeReadRace): run it again.
        foreach (var pause in WorktreeReadRace.Backoff)
        {
            if (!WorktreeReadRace.Hit(result)) break;
            await Task.Delay(pause, ct);
            result = await ChildProcess.RunAsync(psi, null, ct);
        }
        return result;
    }

    /// <summary>Runs git and throws <see cref="GitException"/> on a non-zero exit; returns stdout without trailing newline.</summary>
    public static async Task<string> RunOrThrowAsync(string workDir, IEnumerable<string> args, CancellationToken ct)
    {
        var list = args.ToList();
        var r = await RunAsync(workDir, list, null, ct);
        if (!r.Ok) throw new GitException($"git {string.Join(' ', list)} failed in {workDir} (exit {r.ExitCode}): {(r.Error.Length > 0 ? r.Error : r.Output)}", r);
        return r.Output;
    }

    /// <summary><see cref="RunOrThrowAsync"/> with the arguments inline; returns trimmed stdout.</summary>
    public static async Task<string> CheckedAsync(string workDir, CancellationToken ct, params string[] args) =>
        (await RunOrThrowAsync(workDir, args, ct)).Trim();

    private static async Task<bool> HasIdentityAsync(string workDir, CancellationToken ct)
    {
        if (IdentityKnown.TryGetValue(workDir, out var known)) return known;
        var psi = new ProcessStartInfo("git") { WorkingDirectory = workDir, ArgumentList = { "config", "user.email" } };
        var r = await ChildProcess.RunAsync(psi, null, ct);
        return IdentityKnown[workDir] = r.Ok && r.StdOut.Trim().Length > 0;
    }
}
