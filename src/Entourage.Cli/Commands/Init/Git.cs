using System.Diagnostics;

namespace Entourage.Cli.Commands.Init;

/// <summary>The two questions init asks git, through an argument list (never a shell string).</summary>
internal static class Git
{
    public static async Task<string?> TopLevelAsync(string directory, CancellationToken ct) =>
        await RunAsync(directory, ct, "rev-parse", "--show-toplevel");

    /// <summary>The checked-out branch, also in a repository without commits yet; null when HEAD is detached.</summary>
    public static async Task<string?> CurrentBranchAsync(string repo, CancellationToken ct) =>
        await RunAsync(repo, ct, "symbolic-ref", "--quiet", "--short", "HEAD");

    private static async Task<string?> RunAsync(string directory, CancellationToken ct, params string[] args)
    {
        if (!Directory.Exists(directory)) return null;
        var psi = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("git could not be started.");
        var output = await process.StandardOutput.ReadToEndAsync(ct);
        await process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return process.ExitCode == 0 && output.Trim() is { Length: > 0 } line ? line : null;
    }
}
