using System.Diagnostics;

namespace Entourage.Dashboard.Tests.Browser;

/// <summary>A throwaway git repository on main with one commit, for review and merge tests (real git).</summary>
public sealed class GitRepo : IDisposable
{
    public string Path { get; }

    private GitRepo(string path) => Path = path;

    public static GitRepo Create()
    {
        var repo = new GitRepo(Directory.CreateTempSubdirectory("entourage-repo-").FullName);
        repo.Git("init", "-q", "-b", "main");
        File.WriteAllText(System.IO.Path.Combine(repo.Path, "README.md"), "# app\n");
        Directory.CreateDirectory(System.IO.Path.Combine(repo.Path, "api"));
        File.WriteAllText(System.IO.Path.Combine(repo.Path, "api", "users.py"), "def me():\n    return load()\n");
        repo.Git("add", "-A");
        repo.Git("commit", "-q", "-m", "initial");
        return repo;
    }

    /// <summary>Writes a file on <paramref name="branch"/> (created from main if new) and commits, leaving main checked out.</summary>
    public void CommitOnBranch(string branch, string file, string content)
    {
        var exists = Git("branch", "--list", branch).Trim().Length > 0;
        Git("checkout", "-q", exists ? branch : "-b", exists ? "--" : branch);
        File.WriteAllText(System.IO.Path.Combine(Path, file), content);
        Git("add", "-A");
        Git("commit", "-q", "-m", $"change {file}");
        Git("checkout", "-q", "main");
    }

    public string Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = Path, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false" }) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {stderr}");
        return stdout;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
