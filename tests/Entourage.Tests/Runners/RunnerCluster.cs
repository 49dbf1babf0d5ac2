using System.Diagnostics;
using System.Text.Json.Nodes;
using Entourage.Server.Git;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Runners;

/// <summary>A runner node started as a child process (src/Entourage.Server's build, `runner` mode).</summary>
public sealed class RunnerProcess(string name, Process process, string dataDirectory)
{
    public string Name { get; } = name;
    public Process Process { get; } = process;
    public string DataDirectory { get; } = dataDirectory;
    public string? NodeId { get; set; }

    /// <summary>SIGKILL: no shutdown hooks, no lease release, no clean-stop record.</summary>
    public void Kill()
    {
        if (Process.HasExited) return;
        Process.Kill();
        Process.WaitForExit();
    }
}

/// <summary>
/// One PostgreSQL database shared by a server (in this test process, running no agents itself) and runner child
/// processes, plus a bare git repository as the team's remote: the server works in its own clone of it and each
/// runner clones it into its own data directory (issue #10).
/// </summary>
public sealed class RunnerCluster : IAsyncDisposable
{
    private readonly List<RunnerProcess> _runners = [];
    private string _db = null!;
    private IDictionary<string, string?>? _settings;

    public string Root { get; } = Directory.CreateTempSubdirectory("entourage-runners-").FullName;
    public TestServer Server { get; private set; } = null!;
    public string Remote => Path.Combine(Root, "remote.git");
    public string ServerClone => Path.Combine(Root, "server-clone");
    public IReadOnlyList<RunnerProcess> Runners => _runners;

    /// <summary>
    /// Leases long enough that no live runner loses one on a loaded 2-core CI box (a heartbeat round trip there
    /// can take seconds); the crash test shortens them on its runners (<see cref="ShortLease"/>).
    /// </summary>
    public static Dictionary<string, string?> NodeSettings(IDictionary<string, string?>? extra = null) => FastSettings(new Dictionary<string, string?>
    {
        ["Dispatch:LeaseSeconds"] = "15",
        ["Dispatch:HeartbeatSeconds"] = "1",
        ["Dispatch:PollSeconds"] = "1",
        ["Merging:PollSeconds"] = "1",
    }.Concat(extra ?? new Dictionary<string, string?>()).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value));

    /// <summary>A short lease (the issue's ~2 s, with slack for a loaded machine) so a killed runner's turn moves within seconds.</summary>
    public static Dictionary<string, string?> ShortLease => new() { ["Dispatch:LeaseSeconds"] = "4", ["Dispatch:HeartbeatSeconds"] = "0.5" };

    public static async Task<RunnerCluster> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var c = new RunnerCluster { _settings = settings };
        c._db = await PostgresTestDatabase.CreateAsync();
        // The server serves (API, MCP, merge queue) and runs no agents: every turn must go to a runner.
        var s = NodeSettings(settings);
        s["Dispatch:Enabled"] = "false";
        c.Server = await TestServer.StartAsync(Store.Postgres, s, postgresConnectionString: c._db);
        await c.CreateRemoteAsync();
        return c;
    }

    private async Task CreateRemoteAsync()
    {
        await GitCli.RunOrThrowAsync(Root, ["init", "-q", "--bare", "-b", "main", Remote], default);
        var seed = Path.Combine(Root, "seed");
        await GitCli.RunOrThrowAsync(Root, ["clone", "-q", Remote, seed], default);
        await File.WriteAllTextAsync(Path.Combine(seed, "README.md"), "hello\n");
        await GitCli.RunOrThrowAsync(seed, ["add", "."], default);
        await GitCli.RunOrThrowAsync(seed, ["commit", "-q", "-m", "init"], default);
        await GitCli.RunOrThrowAsync(seed, ["push", "-q", "origin", "HEAD:refs/heads/main"], default);
        await GitCli.RunOrThrowAsync(Root, ["clone", "-q", Remote, ServerClone], default);
    }

    /// <summary>A team whose repo_path is the server's clone and repo_url the bare remote.</summary>
    public async Task<Guid> CreateTeamAsync(string slug, JsonObject? extra = null)
    {
        var org = await Server.DefaultOrgIdAsync();
        var body = new JsonObject { ["name"] = slug, ["slug"] = slug, ["repo_path"] = ServerClone, ["repo_url"] = Remote };
        foreach (var (k, v) in extra ?? []) body[k] = v?.DeepClone();
        var team = await Server.PostJsonAsync($"/api/v1/orgs/{org}/teams", body.ToJsonString());
        return team["id"]!.GetValue<Guid>();
    }

    /// <summary>Starts a runner on the database (--postgres) and waits until it has registered its node row.</summary>
    /// <param name="path">The runner's PATH (default: the test's): what executables it finds.</param>
    public Task<RunnerProcess> StartRunnerAsync(string name, string? labels = null, int concurrency = 4, IDictionary<string, string?>? settings = null, string? path = null) =>
        LaunchAsync(name, ["--postgres", _db], labels, concurrency, settings, pid => n => n.Id.Contains($"-{pid}-") || n.Id.Contains($"~{pid}-"), path);

    /// <summary>
    /// Starts a runner over HTTP (--runner-token, no --postgres: it never sees the database's connection string)
    /// and waits until it has registered through the runner protocol.
    /// </summary>
    public Task<RunnerProcess> StartHttpRunnerAsync(string name, string token, string? labels = null, int concurrency = 4, IDictionary<string, string?>? settings = null, string? path = null) =>
        LaunchAsync(name, ["--runner-token", token, "--name", name], labels, concurrency, settings, _ => n => n.Id.StartsWith(name + "-") && n.RunnerTokenId != null, path);

    /// <summary>Mints a runner token over the API (the server is loopback-only, so the local user is its operator).</summary>
    public async Task<(Guid Id, string Token)> MintRunnerTokenAsync(string name, params string[] labels)
    {
        var body = new JsonObject { ["name"] = name };
        if (labels.Length > 0) body["labels"] = new JsonArray(labels.Select(l => (JsonNode)l).ToArray());
        var t = await Server.PostJsonAsync("/api/v1/runner-tokens", body.ToJsonString());
        return (t["id"]!.GetValue<Guid>(), t["token"]!.GetValue<string>());
    }

    private async Task<RunnerProcess> LaunchAsync(string name, string[] mode, string? labels, int concurrency, IDictionary<string, string?>? settings,
        Func<int, System.Linq.Expressions.Expression<Func<Entourage.Server.Storage.Entities.Node, bool>>> isMine, string? path)
    {
        var dll = Path.Combine(RepoRoot, "src", "Entourage.Server", "bin", new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name, "net10.0", "Entourage.Server.dll");
        File.Exists(dll).ShouldBeTrue($"server build missing: {dll}");
        var dataDir = Path.Combine(Root, name);
        Directory.CreateDirectory(dataDir);
        var psi = new ProcessStartInfo(DotnetHost) { WorkingDirectory = dataDir, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { dll, "runner" }.Concat(mode).Concat(["--server", Server.BaseUrl.ToString().TrimEnd('/'), "--concurrency", concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data-dir", dataDir]))
            psi.ArgumentList.Add(a);
        if (labels is not null) { psi.ArgumentList.Add("--labels"); psi.ArgumentList.Add(labels); }
        var all = new Dictionary<string, string?>(_settings ?? new Dictionary<string, string?>());
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) all[k] = v;
        foreach (var (k, v) in NodeSettings(all)) psi.Environment["ENTOURAGE__" + k.Replace(":", "__", StringComparison.Ordinal)] = v;
        // An HTTP runner must work without the database: make sure it could not find one by accident.
        psi.Environment.Remove("ENTOURAGE_DATABASE_URL");
        psi.Environment.Remove("ENTOURAGE_TEST_POSTGRES");
        if (path is not null) psi.Environment["PATH"] = path;
        var process = Process.Start(psi)!;
        // Outside Root (deleted at the end) so a failed run can be read afterwards.
        var log = LogOf(name, process.Id);
        process.OutputDataReceived += (_, e) => { lock (log) File.AppendAllText(log, e.Data + "\n"); };
        process.ErrorDataReceived += (_, e) => { lock (log) File.AppendAllText(log, e.Data + "\n"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var runner = new RunnerProcess(name, process, dataDir);
        _runners.Add(runner);
        var mine = isMine(process.Id);
        await WaitUntilAsync(Server, async db =>
        {
            if (process.HasExited) throw new InvalidOperationException($"Runner {name} exited with {process.ExitCode}: {await File.ReadAllTextAsync(log)}");
            runner.NodeId = await db.Nodes.Where(n => n.Role == "runner").Where(mine).Select(n => n.Id).FirstOrDefaultAsync();
            return runner.NodeId is not null;
        }, $"runner {name} to register", TimeSpan.FromSeconds(180));
        return runner;
    }

    public static string LogOf(string name, int pid) => Path.Combine(Path.GetTempPath(), $"entourage-runner-{name}-{pid}.log");

    /// <summary>Waits like <see cref="WaitUntilAsync"/>; on a timeout the message carries the store's state and the runners' logs.</summary>
    public async Task WaitAsync(Func<Entourage.Server.Storage.AppDbContext, Task<bool>> condition, string what, TimeSpan timeout)
    {
        try
        {
            await WaitUntilAsync(Server, condition, what, timeout);
        }
        catch (TimeoutException)
        {
            await using var db = Db(Server);
            var tasks = await db.Tasks.AsNoTracking().OrderBy(t => t.Id).Select(t => $"task {t.Id} {t.Status} {t.Branch} {t.WorktreePath}").ToListAsync();
            var turns = await db.Turns.AsNoTracking().OrderBy(t => t.StartedAt).Select(t => $"turn {t.TaskId} {t.State} {t.Node} {t.Error} {t.Log}").ToListAsync();
            var merges = await db.MergeQueue.AsNoTracking().Select(m => $"merge {m.TaskId} {m.State} {m.Phase} {m.Error}").ToListAsync();
            var logs = _runners.Select(r => $"--- {r.Name} ---\n" + TailOf(LogOf(r.Name, r.Process.Id)));
            throw new TimeoutException($"Timed out waiting for {what}\n{string.Join('\n', tasks.Concat(turns).Concat(merges).Concat(logs))}");
        }
    }

    private static string TailOf(string path)
    {
        if (!File.Exists(path)) return "(no log)";
        var text = File.ReadAllText(path);
        return text.Length > 6000 ? text[^6000..] : text;
    }

    public RunnerProcess RunnerOf(string nodeId) => _runners.Single(r => r.NodeId == nodeId);

    public async ValueTask DisposeAsync()
    {
        // Releases agent processes orphaned by a killed runner (their scripts wait on this file).
        await File.WriteAllTextAsync(Path.Combine(Root, "gate"), "go");
        foreach (var r in _runners)
        {
            if (r.Process.HasExited) continue;
            r.Process.Kill(entireProcessTree: true);
            await r.Process.WaitForExitAsync();
        }
        await Server.DisposeAsync();
        await PostgresTestDatabase.DropAsync(_db);
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
