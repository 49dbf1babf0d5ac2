using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Bench;

/// <summary>
/// (b) POST /messages → the recipient's turn claimed; (c) task set done → its dependent's turn claimed;
/// (d) last awaited task done → POST /tasks/wait returns. A real server in this process, over real HTTP; agents
/// are the command adapter running /bin/true, so every turn ends at once and the next sample starts clean.
/// "Claimed" is the committed turn row, observed on the server's change feed.
/// </summary>
public sealed class ProductPaths : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _http;
    private readonly ChangeFeed _feed;
    private Guid _team, _x, _y, _z;

    /// <summary>The finished tasks the store holds before anything is measured (<see cref="History"/>).</summary>
    private const int HistoryTasks = 2000;

    private ProductPaths(WebApplication app)
    {
        _app = app;
        _feed = app.Services.GetRequiredService<ChangeFeed>();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
    }

    public static async Task<ProductPaths> StartAsync(string dataDir, string? postgres)
    {
        var config = new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Storage:DataDirectory"] = dataDir,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (postgres is not null) config["Storage:DatabaseUrl"] = postgres;
        var app = EntourageApp.Build([], b => b.Configuration.AddInMemoryCollection(config));
        await app.StartAsync();
        var p = new ProductPaths(app);
        await p.SetupAsync();
        return p;
    }

    private async Task SetupAsync()
    {
        var org = (await GetAsync("/api/v1/orgs")).AsArray()[0]!["id"]!.ToString();
        _team = (await SendAsync(HttpMethod.Post, $"/api/v1/orgs/{org}/teams", """{"name": "Bench", "slug": "bench"}"""))["id"]!.GetValue<Guid>();
        await SendAsync(HttpMethod.Patch, $"/api/v1/settings/teams/{_team}", """{"require_review": false}""");
        var agent = """{"name": "NAME", "adapter": "command", "config": {"command": "/bin/true"}}""";
        _x = (await SendAsync(HttpMethod.Post, $"/api/v1/teams/{_team}/agents", agent.Replace("NAME", "x", StringComparison.Ordinal)))["id"]!.GetValue<Guid>();
        _y = (await SendAsync(HttpMethod.Post, $"/api/v1/teams/{_team}/agents", agent.Replace("NAME", "y", StringComparison.Ordinal)))["id"]!.GetValue<Guid>();
        _z = (await SendAsync(HttpMethod.Post, $"/api/v1/teams/{_team}/agents", agent.Replace("NAME", "z", StringComparison.Ordinal)))["id"]!.GetValue<Guid>();
        var history = (await SendAsync(HttpMethod.Post, $"/api/v1/orgs/{org}/teams", """{"name": "History", "slug": "history"}"""))["id"]!.GetValue<Guid>();
        var worker = (await SendAsync(HttpMethod.Post, $"/api/v1/teams/{history}/agents", agent.Replace("NAME", "h", StringComparison.Ordinal)))["id"]!.GetValue<Guid>();
        await History.SeedAsync(_app.Services, history, worker, HistoryTasks);
    }

    /// <summary>
    /// (b), with where it goes: the POST's own answer time, and the gap from the message's commit (its row on the
    /// change feed) to the turn's commit (the dispatcher's wake-up, candidates query and claim transaction).
    /// </summary>
    public async Task<(List<double> Total, List<double> Answer, List<double> CommitToClaim)> MessageToClaimAsync(int n)
    {
        var (total, answer, gap) = (new List<double>(n), new List<double>(n), new List<double>(n));
        for (var i = 0; i < n; i++)
        {
            var (t, a, g, _) = await MessageSampleAsync(i);
            total.Add(t);
            answer.Add(a);
            gap.Add(g);
        }
        return (total, answer, gap);
    }

    /// <summary>
    /// (b) and (c) sample by sample in one loop: a message's, then a done's. Their loops run a minute or more apart,
    /// and this VM's speed drifts by ±30 % over minutes; alternated, both see the same box, so c/b says more. Run it
    /// before the feature's loop: that leaves the feature in progress on the message's recipient, whose turns then
    /// take the full path (a turn woken by a message works on its agent's task in progress).
    /// </summary>
    public async Task<(List<double> B, List<double> C)> MessageAndDoneInterleavedAsync(int n)
    {
        var (b, c) = (new List<double>(n), new List<double>(n));
        for (var i = 0; i < n; i++)
        {
            b.Add((await MessageSampleAsync(i)).Total);
            c.Add((await DoneSampleAsync(i, feature: null, manager: null)).Total);
        }
        return (b, c);
    }

    /// <summary>
    /// (b) and (c) alternating as in <see cref="MessageAndDoneInterleavedAsync"/>, each sample with the part of it spent in
    /// PostgreSQL commands (<see cref="StoreTime"/>), so c/b can be read as the store's ratio and the rest's. A loop of its
    /// own: listening to Npgsql's activities costs every command a little, and the other rows are timed without it.
    /// </summary>
    public async Task<(List<double> B, List<double> BStore, List<double> C, List<double> CStore)> MessageAndDoneSplitAsync(int n)
    {
        using var store = new StoreTime();
        var (b, bStore, c, cStore) = (new List<double>(n), new List<double>(n), new List<double>(n), new List<double>(n));
        for (var i = 0; i < n; i++)
        {
            var message = await MessageSampleAsync(i, store);
            b.Add(message.Total);
            bStore.Add(message.Store);
            var done = await DoneSampleAsync(i, feature: null, manager: null, store);
            c.Add(done.Total);
            cStore.Add(done.Store);
        }
        return (b, bStore, c, cStore);
    }

    private async Task<(double Total, double Answer, double CommitToClaim, double Store)> MessageSampleAsync(int i, StoreTime? store = null)
    {
        using var watch = new FeedWatch(_feed);
        await Sampling.SettleAsync();
        var sent = DateTime.UtcNow;
        var sw = Stopwatch.StartNew();
        await SendUnreadAsync(HttpMethod.Post, $"/api/v1/teams/{_team}/messages", $$"""{"recipient_id": "{{_x}}", "body": "ping {{i}}"}""");
        var answer = sw.Elapsed.TotalMilliseconds;
        // In either order: the dispatcher may already be awake (the last turn's end rang it) and claim the
        // request between the message's commit and the publishing of its event.
        var (committed, turn) = await watch.BothAsync(("message", "added"), ("turn", "added"));
        var inStore = store?.TakeBetween(sent, turn.At) ?? 0;
        await EndedAsync(watch, turn.Id);
        // Both stamped by the server's commit hook, on one clock.
        return (Claimed(sent, turn), answer, (turn.At - committed.At).TotalMilliseconds, inStore);
    }

    /// <summary>
    /// When the turn was claimed: its commit, as stamped by the server's commit hook, from the moment the request
    /// was sent (one clock: this process). Not when this loop got round to reading the event: on two cores the
    /// turn's own start (its process launch) competes with the reader, and that wait is the bench's, not the claim's.
    /// </summary>
    private static double Claimed(DateTime sent, ChangeEvent turn) => (turn.At - sent).TotalMilliseconds;

    /// <summary>
    /// Waits until the turn <paramref name="turnId"/> has ended (its process ran and its end was recorded), so the next
    /// sample starts on a server with no turn of its own still finishing. Waiting only for the turn's first change (its
    /// start) let the next sample overlap the last turn's process and end on the two cores: (b)'s own loop ran 1.6–2.5 ms
    /// where the same messages took 1.0–1.9 ms when each followed a (c) sample, and the c/b of the separate loops read
    /// 1.2–1.5 against 1.7–1.8 alternating. Untimed: the state is read from the store between samples.
    /// </summary>
    private async Task EndedAsync(FeedWatch watch, string turnId)
    {
        var id = Guid.Parse(turnId);
        while (true)
        {
            await using (var scope = _app.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                if (await db.Turns.AsNoTracking().Where(t => t.Id == id).Select(t => t.State).FirstAsync() != TurnState.Running) return;
            }
            // Every change of the turn is kept from the watch's start; the end is one of them.
            await watch.NextAsync("turn", "modified", turnId);
        }
    }

    /// <summary>The HTTP floor of this server: GET /health over the same client (no store access).</summary>
    public async Task<List<double>> HealthAsync(int n)
    {
        var results = new List<double>(n);
        for (var i = 0; i < n; i++)
        {
            var sw = Stopwatch.StartNew();
            using var r = await _http.GetAsync("/health");
            await r.Content.ReadAsStringAsync();
            results.Add(sw.Elapsed.TotalMilliseconds);
        }
        return results;
    }

    /// <summary>(c): an upstream task's done → its dependent's turn claimed, the two tasks standing alone.</summary>
    public Task<List<double>> DoneToDependentClaimAsync(int n) => DoneToDependentClaimAsync(n, feature: null, manager: null);

    /// <summary>
    /// (c) as the product's own flow shapes it: the manager's breakdown puts both tasks under the feature (their
    /// parent), and the manager waits on them (one open wait, as wait_for_task_completion leaves it once its turn
    /// is over). So the "done" also runs the parent's rule and checks the open wait. Context for (c), not a goal.
    /// </summary>
    public async Task<List<double>> DoneToDependentClaimInFeatureAsync(int n)
    {
        var manager = (await GetAsync($"/api/v1/teams/{_team}"))["manager"]!["id"]!.GetValue<Guid>();
        using var setup = new FeedWatch(_feed);
        var feature = await CreateTaskAsync("feature", _x);
        var turn = (await setup.NextAsync("turn", "added")).Id;
        await EndedAsync(setup, turn);
        return await DoneToDependentClaimAsync(n, feature, manager);
    }

    private async Task<List<double>> DoneToDependentClaimAsync(int n, long? feature, Guid? manager)
    {
        var results = new List<double>(n);
        for (var i = 0; i < n; i++) results.Add((await DoneSampleAsync(i, feature, manager)).Total);
        return results;
    }

    private async Task<(double Total, double Store)> DoneSampleAsync(int i, long? feature, Guid? manager, StoreTime? store = null)
    {
        using var watch = new FeedWatch(_feed);
        // The upstream on an engineer of its own: an engineer works one task at a time, and in the feature's loop the
        // message's recipient (x) has the feature in progress.
        var a = await CreateTaskAsync($"upstream {i}", _z, parentId: feature);
        var first = (await watch.NextAsync("turn", "added")).Id;
        await EndedAsync(watch, first);
        var b = await CreateTaskAsync($"downstream {i}", _y, a, parentId: feature);
        long? wait = manager is { } m ? await OpenWaitAsync(m, a, b) : null;
        await Sampling.SettleAsync();
        var sent = DateTime.UtcNow;
        await SendUnreadAsync(HttpMethod.Post, $"/api/v1/tasks/{a}/status", """{"status": "done"}""");
        var dependent = await watch.NextAsync("turn", "added");
        var inStore = store?.TakeBetween(sent, dependent.At) ?? 0;
        await EndedAsync(watch, dependent.Id);
        // Untimed: the dependent, left in progress by its turn, goes to review, so y is free for the next sample's
        // (one task at a time) while the feature keeps an open child, as when the dependents stayed in progress.
        await SendAsync(HttpMethod.Post, $"/api/v1/tasks/{b}/status", """{"status": "in_review"}""");
        // One open wait at a time, as a manager has.
        if (wait is { } w) await CloseWaitAsync(w);
        return (Claimed(sent, dependent), inStore);
    }

    /// <summary>
    /// The row wait_for_task_completion leaves for a manager whose turn ended while it waited (written directly: the
    /// bench has no MCP client).
    /// </summary>
    private async Task<long> OpenWaitAsync(Guid agent, params long[] tasks)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var wait = new TaskWait { AgentId = agent, TeamId = _team, TaskIdsJson = "[" + string.Join(",", tasks) + "]", CreatedAt = DateTime.UtcNow };
        db.TaskWaits.Add(wait);
        await db.SaveChangesAsync();
        return wait.Id;
    }

    private async Task CloseWaitAsync(long wait)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await db.TaskWaits.Where(w => w.Id == wait).ExecuteUpdateAsync(s => s.SetProperty(w => w.CompletedAt, DateTime.UtcNow));
    }

    public async Task<List<double>> DoneToWaitReturnsAsync(int n)
    {
        var results = new List<double>(n);
        for (var i = 0; i < n; i++)
        {
            using var watch = new FeedWatch(_feed);
            var t = await CreateTaskAsync($"awaited {i}", _x);
            var turn = (await watch.NextAsync("turn", "added")).Id;
            await EndedAsync(watch, turn);
            var wait = SendAsync(HttpMethod.Post, "/api/v1/tasks/wait", $$"""{"task_ids": ["{{t}}"], "timeout_seconds": 60}""");
            // Let the wait reach the server and subscribe before the task finishes.
            await Task.Delay(20);
            var sw = new Stopwatch();
            var done = Task.Run(async () =>
            {
                sw.Start();
                await SendAsync(HttpMethod.Post, $"/api/v1/tasks/{t}/status", """{"status": "done"}""");
            });
            await wait;
            sw.Stop();
            await done;
            results.Add(sw.Elapsed.TotalMilliseconds);
        }
        return results;
    }

    private async Task<long> CreateTaskAsync(string title, Guid assignee, long? dependsOn = null, long? parentId = null)
    {
        var body = new JsonObject { ["title"] = title, ["assignee_id"] = assignee.ToString() };
        if (dependsOn is { } d) body["depends_on"] = new JsonArray(d);
        if (parentId is { } p) body["parent_id"] = p;
        return (await SendAsync(HttpMethod.Post, $"/api/v1/teams/{_team}/tasks", body.ToJsonString()))["id"]!.GetValue<long>();
    }

    private async Task<JsonNode> GetAsync(string path) => (await _http.GetFromJsonAsync<JsonNode>(path))!;

    private async Task<JsonNode> SendAsync(HttpMethod method, string path, string json)
    {
        using var r = await _http.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") });
        var text = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)r.StatusCode} {method} {path}: {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>
    /// A timed request: its answer is read to the end but not parsed. This process is the server too, and parsing the
    /// answer (a task's DTO in (c)) ran on the same two cores as the claim being timed: the bench's own work, not the
    /// product's.
    /// </summary>
    private async Task SendUnreadAsync(HttpMethod method, string path, string json)
    {
        using var r = await _http.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") });
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)r.StatusCode} {method} {path}: {await r.Content.ReadAsStringAsync()}");
        await r.Content.CopyToAsync(Stream.Null);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
