using System.Diagnostics;
using Entourage.Server.Storage.Entities;

namespace Entourage.Server.Mcp.Tools;

/// <summary>The diff a review shows: the task's branch against the team's base branch, read from its worktree.</summary>
public static class BranchDiff
{
    public const int MaxChars = 512 * 1024;

    public sealed record Result(string Text, string? BaseSha, string? HeadSha, string? Note);

    public static async Task<Result> ReadAsync(Team team, TaskItem task, CancellationToken ct)
    {
        var dir = task.WorktreePath is { } w && Directory.Exists(w) ? w : null;
        if (dir is null) return new Result("", null, null, "no worktree: the diff is empty");
        var head = await GitAsync(dir, ct, "rev-parse", "HEAD");
        var @base = await GitAsync(dir, ct, "merge-base", "HEAD", team.BaseBranch);
        if (head.Code != 0 || @base.Code != 0) return new Result("", null, null, "git could not read the branch: " + (head.Err + @base.Err).Trim());
        var diff = await GitAsync(dir, ct, "diff", "--no-color", "--no-ext-diff", @base.Out.Trim(), head.Out.Trim());
        var text = diff.Out.Length > MaxChars ? diff.Out[..MaxChars] : diff.Out;
        return new Result(text, @base.Out.Trim(), head.Out.Trim(), diff.Out.Length > MaxChars ? $"diff truncated to {MaxChars} characters" : null);
    }

    private static async Task<(int Code, string Out, string Err)> GitAsync(string dir, CancellationToken ct, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("git could not be started");
        var output = p.StandardOutput.ReadToEndAsync(ct);
        var error = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        return (p.ExitCode, await output, await error);
    }
}
