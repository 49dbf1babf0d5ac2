using System.Diagnostics;
using System.Text;

namespace Entourage.Server.Merging;

public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr)
{
    public bool Ok => ExitCode == 0;
    public string Combined => StdErr.Length == 0 ? StdOut : StdOut.Length == 0 ? StdErr : StdOut + "\n" + StdErr;
}

public sealed class GitException(string message, ProcessResult result) : Exception(message)
{
    public ProcessResult Result { get; } = result;
}

/// <summary>
/// Runs real git (and the team's check command) as child processes. Arguments always go through ArgumentList,
/// never a shell string, so branch names and paths cannot inject anything.
/// </summary>
public static class GitRunner
{
    /// <summary>Who the merge queue commits as when the repository has no identity configured.</summary>
    private static readonly string[] Identity = ["-c", "user.name=Entourage", "-c", "user.email=entourage@localhost"];

    public static Task<ProcessResult> RunAsync(string workDir, CancellationToken ct, params string[] args) =>
        RunAsync(workDir, args, null, ct);

    public static async Task<ProcessResult> RunAsync(string workDir, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = workDir };
        // An unset identity must not break a rebase on a fresh machine; a configured one still wins because
        // `-c` only applies when the repository and user config say nothing (we check first).
        if (!await HasIdentityAsync(workDir, ct)) foreach (var a in Identity) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Never wait for a person: no editor, no credential prompt, no pager.
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        psi.Environment["GIT_EDITOR"] = "true";
        psi.Environment["GIT_SEQUENCE_EDITOR"] = "true";
        psi.Environment["GIT_PAGER"] = "cat";
        psi.Environment["LC_ALL"] = "C";
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        return await RunProcessAsync(psi, null, ct);
    }

    /// <summary>Runs git and throws <see cref="GitException"/> on a non-zero exit; returns trimmed stdout.</summary>
    public static async Task<string> CheckedAsync(string workDir, CancellationToken ct, params string[] args)
    {
        var r = await RunAsync(workDir, args, null, ct);
        if (!r.Ok) throw new GitException($"git {string.Join(' ', args)} failed in {workDir}: {r.Combined.Trim()}", r);
        return r.StdOut.Trim();
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> IdentityKnown = new(StringComparer.Ordinal);

    private static async Task<bool> HasIdentityAsync(string workDir, CancellationToken ct)
    {
        if (IdentityKnown.TryGetValue(workDir, out var known)) return known;
        var psi = new ProcessStartInfo("git") { WorkingDirectory = workDir };
        foreach (var a in new[] { "config", "user.email" }) psi.ArgumentList.Add(a);
        var r = await RunProcessAsync(psi, null, ct);
        return IdentityKnown[workDir] = r.Ok && r.StdOut.Trim().Length > 0;
    }

    /// <summary>Runs a shell command line (the team's check command) in <paramref name="workDir"/>, output interleaved.</summary>
    public static Task<ProcessResult> RunShellAsync(string workDir, string commandLine, TimeSpan timeout, CancellationToken ct)
    {
        var psi = OperatingSystem.IsWindows()
            ? new ProcessStartInfo("cmd.exe") { ArgumentList = { "/c", commandLine + " 2>&1" } }
            // Interleave stderr into stdout so the tail we quote to the engineer reads in order.
            : new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", "exec 2>&1\n" + commandLine } };
        psi.WorkingDirectory = workDir;
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        return RunProcessAsync(psi, timeout, ct);
    }

    private static async Task<ProcessResult> RunProcessAsync(ProcessStartInfo psi, TimeSpan? timeout, CancellationToken ct)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.RedirectStandardInput = true;
        psi.UseShellExecute = false;
        psi.StandardOutputEncoding = Encoding.UTF8;
        psi.StandardErrorEncoding = Encoding.UTF8;
        using var p = new Process { StartInfo = psi };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var gate = new Lock();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (gate) stdout.Append(e.Data).Append('\n'); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (gate) stderr.Append(e.Data).Append('\n'); };
        p.Start();
        p.StandardInput.Close();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (timeout is { } t) cts.CancelAfter(t);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            if (ct.IsCancellationRequested) throw;
            await p.WaitForExitAsync(CancellationToken.None);
            lock (gate) stderr.Append($"\n[entourage] killed after {timeout}: the command did not finish in time.\n");
            return new ProcessResult(124, stdout.ToString(), stderr.ToString());
        }
        // WaitForExitAsync returns once the streams hit EOF too, so the buffers are complete here.
        lock (gate) return new ProcessResult(p.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
