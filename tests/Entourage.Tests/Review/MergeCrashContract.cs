using System.Text.Json.Nodes;
using Entourage.Bench.Load;
using Entourage.Tests.Infrastructure;
using static Entourage.Tests.Dispatch.DispatchHarness;
using static Entourage.Tests.Infrastructure.ChildServerHttp;

namespace Entourage.Tests.Review;

/// <summary>
/// A real server process is SIGKILLed while the merge queue runs a task's check command (the queue row says
/// "checking", the base branch is untouched), then started again on the same store with a check that passes: the
/// merge resumes from its recorded step, at once (not when the dead process's lease runs out), and the change lands
/// on the base branch exactly once.
/// </summary>
public abstract class MergeCrashContract(Store store) : IAsyncLifetime
{
    private const string Change = "three = survived a crash";
    private readonly string _dir = Directory.CreateTempSubdirectory("entourage-mergecrash-").FullName;
    private string? _pg;
    private ChildServer? _server;

    private string Repo => Path.Combine(_dir, "repo");
    private string Started => Path.Combine(_dir, "check-started");
    private string Gate => Path.Combine(_dir, "gate");
    private string Pass => Path.Combine(_dir, "pass");

    public async ValueTask InitializeAsync()
    {
        if (store == Store.Postgres) _pg = await PostgresTestDatabase.CreateAsync();
    }

    public async ValueTask DisposeAsync()
    {
        // Releases the first server's orphaned check command (it waits on this gate).
        await File.WriteAllTextAsync(Gate, "go");
        _server?.Dispose();
        if (_pg is not null) await PostgresTestDatabase.DropAsync(_pg);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public async Task A_merge_interrupted_by_a_server_crash_lands_the_change_exactly_once_after_restart()
    {
        Directory.CreateDirectory(Repo);
        await ReviewFixture.Git(Repo, "init", "-q", "-b", "main");
        await ReviewFixture.Git(Repo, "config", "user.email", "test@example.com");
        await ReviewFixture.Git(Repo, "config", "user.name", "Test");
        await File.WriteAllTextAsync(Path.Combine(Repo, "app.txt"), "one\ntwo\nthree\nfour\nfive\n");
        await ReviewFixture.Git(Repo, "add", "-A");
        await ReviewFixture.Git(Repo, "commit", "-q", "-m", "initial");
        var initial = await ReviewFixture.Git(Repo, "rev-parse", "main");

        var url = await StartServerAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
        var org = (await GetAsync(http, "/api/v1/orgs")).AsArray()[0]!["id"]!.ToString();
        var team = (await PostAsync(http, $"/api/v1/orgs/{org}/teams",
            new JsonObject { ["name"] = "Platform", ["slug"] = "platform", ["repo_path"] = Repo }.ToJsonString()))["id"]!.ToString();
        // The check signals that it runs, then blocks until the test ends (its server is killed meanwhile; the gate,
        // or the folder's removal, lets the orphaned shell go: the gate alone was deleted before it looked). After
        // the restart the pass file exists and the same command succeeds at once.
        var check = $"if [ -f '{Pass}' ]; then exit 0; fi; touch '{Started}'; while [ ! -f '{Gate}' ] && [ -d '{_dir}' ]; do sleep 0.2; done; exit 1";
        await SendAsync(http, HttpMethod.Patch, $"/api/v1/settings/teams/{team}", new JsonObject { ["check_command"] = check }.ToJsonString());

        // An engineer whose turns do nothing: the dispatcher claims the task and makes its worktree; the test
        // commits there as the engineer's hands.
        var scriptPath = Path.Combine(_dir, "script.json");
        await File.WriteAllTextAsync(scriptPath, new JsonObject { ["record_dir"] = Path.Combine(_dir, "turns"), ["steps"] = new JsonArray() }.ToJsonString());
        var agentBody = new JsonObject
        {
            ["name"] = "eng-1",
            ["adapter"] = "command",
            ["config"] = new JsonObject { ["command"] = DotnetHost, ["args"] = new JsonArray(FakeAgentDll, "--script", scriptPath) },
        };
        var agent = (await PostAsync(http, $"/api/v1/teams/{team}/agents", agentBody.ToJsonString()))["id"]!.ToString();
        var task = (await PostAsync(http, $"/api/v1/teams/{team}/tasks", new JsonObject { ["title"] = "Harden line three", ["assignee_id"] = agent }.ToJsonString()))["id"]!.ToString();
        string? worktree = null;
        await WaitForAsync(async () =>
        {
            var t = await GetAsync(http, $"/api/v1/tasks/{task}");
            worktree = t["worktree_path"]?.GetValue<string>();
            return t["status"]!.ToString() == "in_progress" && worktree is not null;
        }, "the task to be claimed with a worktree");
        await ReviewFixture.CommitAsync(worktree!, "app.txt", $"one\ntwo\n{Change}\nfour\nfive\n", "change three");

        using var started = WatchFor(Started);
        await PostAsync(http, $"/api/v1/tasks/{task}/request-review", """{"summary": "line three"}""");
        await PostAsync(http, $"/api/v1/tasks/{task}/review", """{"decision": "approve"}""");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(300));

        // Mid-merge: rebased and checking, nothing landed yet.
        var running = (await GetAsync(http, $"/api/v1/tasks/{task}/merge")).AsArray()[^1]!;
        running["state"]!.ToString().ShouldBe("running");
        running["phase"]!.ToString().ShouldBe("checking");
        (await ReviewFixture.Git(Repo, "rev-parse", "main")).ShouldBe(initial);
        Kill();

        await File.WriteAllTextAsync(Pass, "ok");
        url = await StartServerAsync();
        using var http2 = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
        await WaitForAsync(async () => (await GetAsync(http2, $"/api/v1/tasks/{task}"))["status"]!.ToString() is "done" or "in_progress" or "blocked" or "failed",
            "the task to leave in_review after restart");
        (await GetAsync(http2, $"/api/v1/tasks/{task}"))["status"]!.ToString().ShouldBe("done");

        // Exactly one commit on top of the initial one (squash), and only one commit ever introduced the change.
        (await ReviewFixture.Git(Repo, "rev-list", "--count", "main")).ShouldBe("2");
        (await ReviewFixture.Git(Repo, "rev-parse", "main~1")).ShouldBe(initial);
        var introducing = (await ReviewFixture.Git(Repo, "log", "--format=%H", $"-S{Change}", "main")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        introducing.Length.ShouldBe(1);
        (await ReviewFixture.Git(Repo, "show", "main:app.txt")).Split('\n').Count(l => l == Change).ShouldBe(1);
        // The merge queue holds one item for the task, merged once, as the commit on main.
        var merges = (await GetAsync(http2, $"/api/v1/tasks/{task}/merge")).AsArray();
        merges.Count(m => m!["state"]!.ToString() == "merged").ShouldBe(1);
        merges.Count.ShouldBe(1);
        merges[0]!["merged_sha"]!.ToString().ShouldBe(await ReviewFixture.Git(Repo, "rev-parse", "main"));
        // The worktree is removed, the branch kept.
        Directory.Exists(worktree).ShouldBeFalse();
        (await ReviewFixture.Git(Repo, "worktree", "list", "--porcelain")).ShouldNotContain(worktree!);
        (await ReviewFixture.Git(Repo, "branch", "--list", "entourage/*")).ShouldContain($"task-{task}-");
    }

    /// <summary>Completes when <paramref name="path"/> exists: a watcher for the event, then a look for a file made before it started.</summary>
    private static WatchedFile WatchFor(string path)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path)) { EnableRaisingEvents = true };
        watcher.Created += (_, _) => tcs.TrySetResult();
        if (File.Exists(path)) tcs.TrySetResult();
        return new WatchedFile(watcher, tcs.Task);
    }

    private sealed record WatchedFile(FileSystemWatcher Watcher, Task Task) : IDisposable
    {
        public void Dispose() => Watcher.Dispose();
    }

    /// <summary>
    /// The server build as a child process on the same store as before (Faults/FaultServer). The merge lease is longer
    /// than the test's patience: the restarted node must resume its predecessor's merge at once, on SQLite (one
    /// process per file) and on PostgreSQL alike (the same node name: same host, data folder and database).
    /// </summary>
    private async Task<string> StartServerAsync()
    {
        _server?.Dispose();
        _server = await Faults.FaultServer.StartAsync(_dir, _pg, new Dictionary<string, string> { ["Merging:LeaseSeconds"] = "900" });
        return _server.Url;
    }

    /// <summary>SIGKILL: no shutdown hooks, no lease release.</summary>
    private void Kill() => _server?.Kill();
}

public sealed class MergeCrashContractSqlite() : MergeCrashContract(Store.Sqlite);

public sealed class MergeCrashContractPostgres() : MergeCrashContract(Store.Postgres);
