using Entourage.Server.Git;
using System.Text;
using Entourage.Client.Contracts;

namespace Entourage.Server.Merging;

/// <summary>A task branch's change against its base branch: the unified diff and the same split per file.</summary>
public sealed record BranchDiffResult(string BaseSha, string HeadSha, string Unified, IReadOnlyList<FileDiffDto> Files)
{
    public int Additions => Files.Sum(f => f.Additions);
    public int Deletions => Files.Sum(f => f.Deletions);
}

/// <summary>Git reads for review: the diff of a branch since it left its base, and quoting lines of a file.</summary>
public static class BranchDiff
{
    /// <summary>
    /// Diff from the merge base of <paramref name="baseBranch"/> and <paramref name="branch"/> to the branch head
    /// (what `git diff base...branch` shows): only the task's own change, not what landed on base meanwhile.
    /// </summary>
    public static async Task<BranchDiffResult> ComputeAsync(string repoPath, string baseBranch, string branch, CancellationToken ct)
    {
        var head = await GitCli.CheckedAsync(repoPath, ct, "rev-parse", "--verify", "--quiet", branch + "^{commit}");
        var baseSha = await GitCli.CheckedAsync(repoPath, ct, "merge-base", baseBranch, head);
        var unified = (await GitCli.RunAsync(repoPath,
            ["-c", "core.quotePath=false", "diff", "--no-color", "--no-ext-diff", "-M", baseSha, head], null, ct)).StdOut;
        return new BranchDiffResult(baseSha, head, unified, SplitFiles(unified));
    }

    /// <summary>Splits a unified diff at each "diff --git" header and counts each file's added and removed lines.</summary>
    public static List<FileDiffDto> SplitFiles(string unified)
    {
        var files = new List<FileDiffDto>();
        var lines = unified.Split('\n');
        var start = -1;
        for (var i = 0; i <= lines.Length; i++)
        {
            if (i < lines.Length && !lines[i].StartsWith("diff --git ", StringComparison.Ordinal)) continue;
            if (start >= 0) files.Add(ParseFile(lines[start..i]));
            start = i;
        }
        return files;
    }

    private static FileDiffDto ParseFile(string[] lines)
    {
        string? oldPath = null, newPath = null, status = "modified";
        int add = 0, del = 0;
        var binary = false;
        var inHunk = false;
        foreach (var l in lines.Skip(1))
        {
            if (!inHunk)
            {
                if (l.StartsWith("new file mode", StringComparison.Ordinal)) status = "added";
                else if (l.StartsWith("deleted file mode", StringComparison.Ordinal)) status = "deleted";
                else if (l.StartsWith("rename from ", StringComparison.Ordinal)) { status = "renamed"; oldPath = l[12..]; }
                else if (l.StartsWith("rename to ", StringComparison.Ordinal)) newPath = l[10..];
                else if (l.StartsWith("--- a/", StringComparison.Ordinal)) oldPath ??= l[6..];
                else if (l.StartsWith("+++ b/", StringComparison.Ordinal)) newPath = l[6..];
                else if (l.StartsWith("Binary files ", StringComparison.Ordinal)) binary = true;
                else if (l.StartsWith("@@", StringComparison.Ordinal)) inHunk = true;
                continue;
            }
            if (l.StartsWith('+')) add++;
            else if (l.StartsWith('-')) del++;
        }
        if (newPath is null || oldPath is null)
        {
            // Mode-only, binary or added/deleted files: the header "diff --git a/X b/X" holds the path twice.
            var header = lines[0]["diff --git ".Length..];
            var half = (header.Length - 1) / 2;
            var a = header.Length > 4 ? header[..half] : header;
            var b = header.Length > 4 ? header[(half + 1)..] : header;
            oldPath ??= a.StartsWith("a/", StringComparison.Ordinal) ? a[2..] : a;
            newPath ??= b.StartsWith("b/", StringComparison.Ordinal) ? b[2..] : b;
        }
        var path = status == "deleted" ? oldPath : newPath;
        var patch = string.Join('\n', lines).TrimEnd('\n') + "\n";
        return new FileDiffDto(path, status == "renamed" ? oldPath : null, status, add, del, binary, patch);
    }

    /// <summary>Lines <paramref name="from"/>..<paramref name="to"/> (1-based) of a file at a commit; null when absent.</summary>
    public static async Task<IReadOnlyList<string>?> ReadLinesAsync(string repoPath, string commit, string path, CancellationToken ct)
    {
        var r = await GitCli.RunAsync(repoPath, ct, "show", $"{commit}:{path}");
        if (!r.Ok) return null;
        var text = r.StdOut.EndsWith('\n') ? r.StdOut[..^1] : r.StdOut;
        return text.Split('\n');
    }

    /// <summary>Commits whatever the engineer left uncommitted in the worktree, so review sees the real state.</summary>
    public static async Task<bool> CommitPendingAsync(string worktree, string message, CancellationToken ct)
    {
        var status = await GitCli.CheckedAsync(worktree, ct, "status", "--porcelain");
        if (status.Length == 0) return false;
        await GitCli.CheckedAsync(worktree, ct, "add", "-A");
        await GitCli.CheckedAsync(worktree, ct, "commit", "--no-verify", "-m", message);
        return true;
    }

    public static string Truncate(string s, int max)
    {
        if (s.Length <= max) return s;
        var sb = new StringBuilder(s, 0, max, max + 80);
        sb.Append("\n[diff truncated: ").Append(s.Length - max).Append(" more characters; fetch GET /tasks/{id}/diff for one file]\n");
        return sb.ToString();
    }
}
