using System.Diagnostics;
using System.Text;

namespace Entourage.Server.Git;

public sealed record GitResult(int ExitCode, string Output, string Error)
{
    public bool Ok => ExitCode == 0;
}

/// <summary>Runs git with an argument list (never a shell string) and captures its output.</summary>
public static class GitCli
{
    public static async Task<GitResult> RunAsync(string workingDirectory, IEnumerable<string> args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("git")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Never prompt (credentials, editors): a blocked git would hang the turn.
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        psi.Environment["GIT_EDITOR"] = "true";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start git.");
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        try
        {
            await p.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
        return new GitResult(p.ExitCode, (await stdout).TrimEnd(), (await stderr).TrimEnd());
    }

    public static async Task<string> RunOrThrowAsync(string workingDirectory, IEnumerable<string> args, CancellationToken ct)
    {
        var list = args.ToList();
        var r = await RunAsync(workingDirectory, list, ct);
        if (!r.Ok)
            throw new InvalidOperationException(new StringBuilder("git ").AppendJoin(' ', list).Append(" failed (exit ").Append(r.ExitCode).Append("): ").Append(r.Error.Length > 0 ? r.Error : r.Output).ToString());
        return r.Output;
    }
}
