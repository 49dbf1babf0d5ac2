using Entourage.Server.Git;
using Entourage.Tests.Infrastructure;

namespace Entourage.Tests.Git;

/// <summary>
/// git dies when it lists worktrees while another process is adding one (the add's folder exists, its files are not
/// written yet). Seen in CI: the merge of a task racing the worktree of the dependent it made ready. GitCli runs such
/// a command again once the add is through.
/// </summary>
public sealed class WorktreeReadRaceTests : IDisposable
{
    private readonly string _repo = Directory.CreateTempSubdirectory("entourage-race-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_repo, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public async Task A_command_that_meets_a_worktree_being_added_runs_again_once_the_add_is_through()
    {
        var ct = TestContext.Current.CancellationToken;
        await GitCli.CheckedAsync(_repo, ct, "init", "--quiet", "--initial-branch=main");
        await GitCli.CheckedAsync(_repo, ct, "commit", "--quiet", "--allow-empty", "-m", "first");
        // The state `git worktree add` leaves for a moment: its gitdir and HEAD written, its commondir still empty.
        var adding = Path.Combine(_repo, ".git", "worktrees", "task-2-use-third-line");
        Directory.CreateDirectory(adding);
        await File.WriteAllTextAsync(Path.Combine(adding, "gitdir"), Path.Combine(_repo, ".worktrees", "task-2-use-third-line", ".git") + "\n", ct);
        await File.WriteAllTextAsync(Path.Combine(adding, "HEAD"), await GitCli.CheckedAsync(_repo, ct, "rev-parse", "HEAD") + "\n", ct);
        await File.WriteAllTextAsync(Path.Combine(adding, "commondir"), "", ct);

        // Each git run reports its exit in the trace: the first one's failure is the moment the add "finishes".
        var trace = Path.Combine(_repo, "trace.json");
        var env = new Dictionary<string, string> { ["GIT_TRACE2_EVENT"] = trace };
        var run = GitCli.RunAsync(_repo, ["branch", "--list", "main"], env, ct);
        await FileEvents.WaitForTextAsync(trace, "\"code\":128");
        Directory.Delete(adding, recursive: true);

        var result = await run;
        result.Ok.ShouldBeTrue(result.StdErr);
        result.Output.ShouldContain("main");
        WorktreeReadRace.Hit(new ProcessResult(128, "", "fatal: failed to read .git/worktrees/task-2-use-third-line/commondir: Success")).ShouldBeTrue();
    }

    [Fact]
    public async Task Other_failures_are_not_run_again()
    {
        var ct = TestContext.Current.CancellationToken;
        await GitCli.CheckedAsync(_repo, ct, "init", "--quiet", "--initial-branch=main");
        var trace = Path.Combine(_repo, "trace.json");
        var result = await GitCli.RunAsync(_repo, ["rev-parse", "--verify", "--quiet", "refs/heads/nope"], new Dictionary<string, string> { ["GIT_TRACE2_EVENT"] = trace }, ct);
        result.Ok.ShouldBeFalse();
        (await File.ReadAllLinesAsync(trace, ct)).Count(l => l.Contains("\"event\":\"exit\"", StringComparison.Ordinal)).ShouldBe(1);
    }
}
