using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Agents;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Tests.Dispatch;

/// <summary>
/// Helpers for dispatcher tests: fake agents (tests/FakeAgent launched through the command adapter), work put
/// into the store the way the write paths do it, and waits driven by the servers' change feeds.
/// </summary>
public static class DispatchHarness
{
    /// <summary>Fast leases and polls so recovery tests finish in seconds.</summary>
    public static Dictionary<string, string?> FastSettings(IDictionary<string, string?>? extra = null)
    {
        var s = new Dictionary<string, string?>
        {
            ["Dispatch:PollSeconds"] = "1",
            ["Dispatch:HeartbeatSeconds"] = "0.5",
            ["Dispatch:LeaseSeconds"] = "2",
            ["Dispatch:LogFlushMilliseconds"] = "50",
            ["Dispatch:ShutdownTimeoutSeconds"] = "2",
        };
        if (extra is not null) foreach (var (k, v) in extra) s[k] = v;
        return s;
    }

    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p && File.Exists(p) ? p
        : AdapterCatalog.Resolve("dotnet") ?? throw new InvalidOperationException("dotnet is not on PATH.");

    /// <summary>tests/FakeAgent/bin/{Configuration}/net10.0/FakeAgent.dll, next to this test assembly's build.</summary>
    public static string FakeAgentDll
    {
        get
        {
            var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var tfm = testBin.Name;
            var config = testBin.Parent!.Name;
            var testsDir = testBin.Parent!.Parent!.Parent!.Parent!.FullName;
            var dll = Path.Combine(testsDir, "FakeAgent", "bin", config, tfm, "FakeAgent.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build tests/FakeAgent first ({dll} is missing).");
        }
    }

    public static string RepoRoot => new DirectoryInfo(Path.GetDirectoryName(FakeAgentDll)!).Parent!.Parent!.Parent!.Parent!.Parent!.FullName;

    public static async Task<Guid> CreateTeamAsync(TestServer server, string slug = "platform", string? repoPath = null)
    {
        var org = await server.DefaultOrgIdAsync();
        var body = new JsonObject { ["name"] = slug, ["slug"] = slug };
        if (repoPath is not null) body["repo_path"] = repoPath;
        var team = await server.PostJsonAsync($"/api/v1/orgs/{org}/teams", body.ToJsonString());
        return team["id"]!.GetValue<Guid>();
    }

    /// <summary>Adds a command-adapter agent running FakeAgent with <paramref name="script"/> (POST /teams/{id}/agents).</summary>
    public static async Task<Guid> AddFakeAgentAsync(TestServer server, Guid teamId, string name, JsonObject script, AgentRole role = AgentRole.Engineer)
    {
        var scriptPath = Path.Combine(server.DataDirectory, $"script-{name}-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(scriptPath, script.ToJsonString());
        var body = new JsonObject
        {
            ["name"] = name,
            ["role"] = role == AgentRole.Manager ? "manager" : "engineer",
            ["model"] = "fake",
            ["adapter"] = "command",
            ["config"] = new JsonObject
            {
                ["command"] = DotnetHost,
                ["args"] = new JsonArray(FakeAgentDll, "--script", scriptPath),
                ["description"] = "fake agent " + name,
            },
        };
        var agent = await server.PostJsonAsync($"/api/v1/teams/{teamId}/agents", body.ToJsonString());
        return agent["id"]!.GetValue<Guid>();
    }

    /// <summary>Points an existing agent (e.g. the auto-created manager) at FakeAgent.</summary>
    public static async Task UseFakeAgentAsync(TestServer server, Guid agentId, JsonObject script)
    {
        var scriptPath = Path.Combine(server.DataDirectory, $"script-{agentId:N}.json");
        await File.WriteAllTextAsync(scriptPath, script.ToJsonString());
        await using var db = Db(server);
        var agent = await db.Agents.FirstAsync(a => a.Id == agentId);
        agent.Adapter = "command";
        agent.ConfigJson = new JsonObject { ["command"] = DotnetHost, ["args"] = new JsonArray(FakeAgentDll, "--script", scriptPath) }.ToJsonString();
        await db.SaveChangesAsync();
    }

    public static AppDbContext Db(TestServer server) => server.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext();

    /// <summary>POST /teams/{id}/messages: the message and its dispatch request commit together.</summary>
    public static async Task<long> SendMessageAsync(TestServer server, Guid teamId, Guid recipientId, string body, long? taskId = null)
    {
        var req = new JsonObject { ["recipient_id"] = recipientId.ToString(), ["body"] = body, ["sender_name"] = "test" };
        if (taskId is not null) req["task_id"] = taskId;
        var m = await server.PostJsonAsync($"/api/v1/teams/{teamId}/messages", req.ToJsonString());
        return m["id"]!.GetValue<long>();
    }

    /// <summary>POST /teams/{id}/tasks with an assignee (and dependencies): ready ones are dispatched at once.</summary>
    public static async Task<long> AddTaskAsync(TestServer server, Guid teamId, Guid? assignee, string title, params long[] dependsOn)
    {
        var req = new JsonObject { ["title"] = title, ["priority"] = "high", ["task_type"] = "feature" };
        if (assignee is not null) req["assignee_id"] = assignee.ToString();
        if (dependsOn.Length > 0) req["depends_on"] = new JsonArray(dependsOn.Select(d => (JsonNode)d).ToArray());
        var t = await server.PostJsonAsync($"/api/v1/teams/{teamId}/tasks", req.ToJsonString());
        return t["id"]!.GetValue<long>();
    }

    public static Task<long> AddReadyTaskAsync(TestServer server, Guid teamId, Guid assignee, string title) => AddTaskAsync(server, teamId, assignee, title);

    /// <summary>
    /// Waits until <paramref name="condition"/> holds, re-checking on every committed change of the given servers
    /// (and every 500 ms for changes made by processes whose feed we cannot see). Fails after the timeout.
    /// </summary>
    public static async Task WaitUntilAsync(TestServer[] servers, Func<AppDbContext, Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var subs = servers.Select(s => s.Services.GetRequiredService<ChangeFeed>().Subscribe()).ToList();
        try
        {
            using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(180));
            while (true)
            {
                await using (var db = Db(servers[0]))
                {
                    if (await condition(db)) return;
                }
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
                tick.CancelAfter(500);
                var waits = subs.Select(s => s.Reader.WaitToReadAsync(tick.Token).AsTask()).ToList();
                await Task.WhenAny(waits);
                // End every pending wait before the next round: each channel allows a single reader.
                await tick.CancelAsync();
                try { await Task.WhenAll(waits); } catch (OperationCanceledException) { }
                foreach (var s in subs) while (s.Reader.TryRead(out _)) { }
                if (cts.IsCancellationRequested) throw new TimeoutException($"Timed out waiting for: {what}");
            }
        }
        finally
        {
            foreach (var s in subs) s.Dispose();
        }
    }

    public static Task WaitUntilAsync(TestServer server, Func<AppDbContext, Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        WaitUntilAsync([server], condition, what, timeout);

    public static JsonObject Script(params JsonObject[] steps) => new() { ["steps"] = new JsonArray(steps) };

    public static JsonObject Step(string action, object? args = null)
    {
        var o = new JsonObject { ["do"] = action };
        if (args is not null)
            foreach (var (k, v) in System.Text.Json.JsonSerializer.SerializeToNode(args)!.AsObject()) o[k] = v?.DeepClone();
        return o;
    }
}

/// <summary>More helpers: settings, git repositories, turn intervals.</summary>
public static class DispatchHarnessExtras
{
    public static async Task PatchSettingsAsync(TestServer server, Guid teamId, string json)
    {
        var r = await server.Http.PatchAsync($"/api/v1/settings/teams/{teamId}", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        if (!r.IsSuccessStatusCode) throw new HttpRequestException($"{(int)r.StatusCode} PATCH settings: {await r.Content.ReadAsStringAsync()}");
    }

    /// <summary>A fresh git repository on branch main with one commit.</summary>
    public static async Task<string> CreateGitRepoAsync(string parent)
    {
        var repo = Path.Combine(parent, "repo");
        Directory.CreateDirectory(repo);
        await Entourage.Server.Git.GitCli.RunOrThrowAsync(repo, ["init", "-q", "-b", "main"], default);
        await Entourage.Server.Git.GitCli.RunOrThrowAsync(repo, ["config", "user.email", "test@example.com"], default);
        await Entourage.Server.Git.GitCli.RunOrThrowAsync(repo, ["config", "user.name", "test"], default);
        await File.WriteAllTextAsync(Path.Combine(repo, "README.md"), "hello\n");
        await Entourage.Server.Git.GitCli.RunOrThrowAsync(repo, ["add", "."], default);
        await Entourage.Server.Git.GitCli.RunOrThrowAsync(repo, ["commit", "-q", "-m", "init"], default);
        return repo;
    }

    /// <summary>
    /// A turn row written straight into PostgreSQL, as another node would leave it, for tests that stage what the store
    /// holds: its heartbeat and lease at its end (or start, while running).
    /// </summary>
    public static async Task InsertTurnAsync(Npgsql.NpgsqlConnection conn, Guid id, Guid agentId, Guid teamId, string state,
        DateTime startedAt, DateTime? endedAt, CancellationToken ct, DateTime? leaseUntil = null)
    {
        await using var cmd = new Npgsql.NpgsqlCommand("""
            INSERT INTO turns (id, agent_id, team_id, state, node, attempt, started_at, ended_at, heartbeat_at, lease_until, log,
                               input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd)
            VALUES (@id, @agent, @team, @state, 'elsewhere', 1, @started, @ended, @last, @lease, '', 0, 0, 0, 0, 0)
            """, conn);
        cmd.Parameters.AddWithValue("id", id);
        cmd.Parameters.AddWithValue("agent", agentId);
        cmd.Parameters.AddWithValue("team", teamId);
        cmd.Parameters.AddWithValue("state", state);
        cmd.Parameters.AddWithValue("started", startedAt);
        cmd.Parameters.AddWithValue("ended", endedAt is { } e ? e : DBNull.Value);
        cmd.Parameters.AddWithValue("last", endedAt ?? startedAt);
        cmd.Parameters.AddWithValue("lease", leaseUntil ?? endedAt ?? startedAt);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Most intervals open at once ([start, end); an end at the same instant as a start comes first).</summary>
    public static int MaxOverlap(IEnumerable<(DateTime Start, DateTime End)> intervals)
    {
        var points = intervals.SelectMany(i => new[] { (At: i.Start, Delta: 1), (At: i.End, Delta: -1) })
            .OrderBy(p => p.At).ThenBy(p => p.Delta).ToList();
        int open = 0, max = 0;
        foreach (var p in points) max = Math.Max(max, open += p.Delta);
        return max;
    }
}
