using System.Diagnostics;
using System.Text;

namespace Entourage.Server.Git;

/// <summary>What a child process printed and how it exited.</summary>
public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr)
{
    public bool Ok => ExitCode == 0;

    /// <summary>Standard output without its trailing newline (what a caller usually wants from git).</summary>
    public string Output => StdOut.TrimEnd();

    public string Error => StdErr.TrimEnd();

    public string Combined => StdErr.Length == 0 ? StdOut : StdOut.Length == 0 ? StdErr : StdOut + "\n" + StdErr;
}

/// <summary>Runs child processes (git, the team's check command) with captured output, a timeout and tree kill.</summary>
public static class ChildProcess
{
    /// <summary>Runs a shell command line (the team's check command) in <paramref name="workDir"/>, output interleaved.</summary>
    public static Task<ProcessResult> RunShellAsync(string workDir, string commandLine, TimeSpan timeout, CancellationToken ct)
    {
        var psi = OperatingSystem.IsWindows()
            ? new ProcessStartInfo("cmd.exe") { ArgumentList = { "/c", commandLine + " 2>&1" } }
            // Interleave stderr into stdout so the tail we quote to the engineer reads in order.
            : new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", "exec 2>&1\n" + commandLine } };
        psi.WorkingDirectory = workDir;
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        return RunAsync(psi, timeout, ct);
    }

    public static async Task<ProcessResult> RunAsync(ProcessStartInfo psi, TimeSpan? timeout, CancellationToken ct)
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
        try
        {
            p.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"Could not start {psi.FileName}: {ex.Message}", ex);
        }
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
