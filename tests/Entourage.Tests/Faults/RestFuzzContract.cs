using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Tests.Features;
using Entourage.Tests.Properties;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Tests.Faults;

/// <summary>
/// Seeded fuzz of every REST route: malformed and random bodies (wrong types, huge numbers, unicode, missing and
/// unknown fields, broken JSON, wrong content types), random and hostile ids and query strings. No response is a
/// 5xx, every error with a body is problem+json, and afterwards the store is sound: every batch that answered 201
/// created exactly its items and nothing else was created, statuses are valid, dependencies stay in one team and
/// acyclic, every task has its "created" event.
/// </summary>
public abstract class RestFuzzContract(Store store)
{
    private const int Requests = 1500;

    private static readonly (string Method, string Path, string? Template)[] Routes =
    [
        ("GET", "/api/v1/orgs", null),
        ("POST", "/api/v1/orgs", """{"name": "Fuzz org", "slug": "fuzz-org"}"""),
        ("GET", "/api/v1/orgs/{org}/teams", null),
        ("POST", "/api/v1/orgs/{org}/teams", """{"name": "Fuzz", "slug": "fuzz"}"""),
        ("GET", "/api/v1/teams/{team}", null),
        ("PATCH", "/api/v1/teams/{team}", """{"description": "fuzzed"}"""),
        ("POST", "/api/v1/teams/{team}/agents", """{"name": "eng-fuzz", "role": "engineer", "adapter": "command", "config": {"command": "true"}}"""),
        ("GET", "/api/v1/teams/{team}/agents", null),
        ("GET", "/api/v1/agents/{agent}", null),
        ("PATCH", "/api/v1/agents/{agent}", """{"model": "fake"}"""),
        ("DELETE", "/api/v1/agents/{agent}", null),
        ("POST", "/api/v1/agents/{agent}/token/rotate", null),
        ("DELETE", "/api/v1/agents/{agent}/token", null),
        ("POST", "/api/v1/orgs/{org}/api-keys", """{"name": "fuzz"}"""),
        ("GET", "/api/v1/orgs/{org}/api-keys", null),
        ("DELETE", "/api/v1/api-keys/{any}", null),
        ("POST", "/api/v1/teams/{team}/tasks", """{"title": "fuzz task", "priority": "high", "depends_on": [{task}]}"""),
        ("POST", "/api/v1/teams/{team}/tasks/batch", """{"tasks": [{"title": "a", "assignee_id": "eng-backend"}, {"title": "b", "depends_on_indices": [0], "depends_on": [{task}]}]}"""),
        ("GET", "/api/v1/teams/{team}/tasks", null),
        ("GET", "/api/v1/tasks/{task}", null),
        ("PATCH", "/api/v1/tasks/{task}", """{"title": "renamed", "depends_on": [{task}]}"""),
        ("POST", "/api/v1/tasks/{task}/status", """{"status": "in_progress", "reason": "fuzz"}"""),
        ("POST", "/api/v1/tasks/{task}/assign", """{"assignee_id": "eng-frontend"}"""),
        ("GET", "/api/v1/tasks/{task}/events", null),
        ("POST", "/api/v1/tasks/wait", """{"task_ids": [{task}], "timeout_seconds": 0}"""),
        ("POST", "/api/v1/teams/{team}/messages", """{"recipient_id": "{agent}", "body": "hi", "sender_name": "fuzz"}"""),
        ("GET", "/api/v1/teams/{team}/messages", null),
        ("GET", "/api/v1/agents/{agent}/inbox", null),
        ("POST", "/api/v1/agents/{agent}/inbox/read", """{"message_ids": [1, 2]}"""),
        ("GET", "/api/v1/teams/{team}/costs", null),
        ("GET", "/api/v1/settings/teams/{team}", null),
        ("PATCH", "/api/v1/settings/teams/{team}", """{"daily_cost_limit_usd": 5, "max_concurrent_agents": 2, "require_review": true}"""),
        ("GET", "/api/v1/teams/{team}/prompts", null),
        ("GET", "/api/v1/teams/{team}/prompts/{role}", null),
        ("PUT", "/api/v1/teams/{team}/prompts/{role}", """{"template": "You are {agent_name}."}"""),
        ("DELETE", "/api/v1/teams/{team}/prompts/{role}", null),
        ("GET", "/api/v1/agents/{agent}/turns", null),
        ("GET", "/api/v1/turns/{any}", null),
        ("POST", "/api/v1/turns/{any}/cancel", """{"reason": "fuzz"}"""),
        ("GET", "/api/v1/tasks/{task}/diff", null),
        ("POST", "/api/v1/tasks/{task}/request-review", """{"summary": "fuzz"}"""),
        ("POST", "/api/v1/tasks/{task}/review", """{"decision": "request_changes", "body": "no", "comments": [{"file": "a.txt", "line": 1, "body": "x"}]}"""),
        ("GET", "/api/v1/tasks/{task}/reviews", null),
        ("GET", "/api/v1/reviews/{any}", null),
        ("POST", "/api/v1/reviews/{any}/approve", """{"body": "ok"}"""),
        ("POST", "/api/v1/reviews/{any}/request-changes", """{"body": "no"}"""),
        ("GET", "/api/v1/tasks/{task}/merge", null),
        ("POST", "/api/v1/tasks/{task}/merge", null),
        ("GET", "/api/v1/teams/{team}/merge-queue", null),
        ("GET", "/api/v1/teams/{team}/plans", null),
        ("GET", "/api/v1/plans/{any}", null),
        ("POST", "/api/v1/plans/{any}/approve", """{"comment": "ok"}"""),
        ("POST", "/api/v1/plans/{any}/reject", """{"feedback": "no"}"""),
        ("GET", "/api/v1/human-requests", null),
        ("GET", "/api/v1/teams/{team}/human-requests", null),
        ("GET", "/api/v1/human-requests/{any}", null),
        ("POST", "/api/v1/human-requests/{any}/respond", """{"answer": "yes", "approved": true}"""),
        ("POST", "/api/v1/agents/{agent}/human-requests", """{"question": "Which table?", "kind": "question", "options": ["a", "b"], "task_id": {task}}"""),
        ("GET", "/api/v1/{junk}", null),
    ];

    private static readonly string[] Queries = ["", "?status=todo", "?status=bogus", "?ready=true", "?ready=maybe", "?limit=-1", "?limit=99999999999", "?limit=0",
        "?assignee=eng-backend", "?assignee=%F0%9F%98%80", "?parent=abc", "?unread_only=yes", "?task_id=1e9", "?agent_id=x", "?state=proposed", "?format=unified", "?file=../../x", "?wait_seconds=-5"];

    // A junk id filled into a template ("depends_on": [abc]) leaves text that is not JSON: sent as it is.
    private static JsonNode? TryParse(string text)
    {
        try { return JsonNode.Parse(text); }
        catch (System.Text.Json.JsonException) { return null; }
    }

    [Fact]
    public Task Random_and_malformed_requests_never_get_a_5xx_and_leave_the_store_sound() =>
        FaultSeed.RunAsync("restfuzz_" + store.ToString().ToLowerInvariant(), async rng =>
        {
            await using var s = await TestServer.StartAsync(store, new Dictionary<string, string?> { ["Dispatch:Enabled"] = "false", ["Api:MaxWaitSeconds"] = "1" });
            var errors = ServerErrorLog.Attach(s);
            var org = (await s.DefaultOrgIdAsync()).ToString();
            var team = await s.TeamAsync();
            var other = await s.TeamAsync("other");
            var teams = new List<string> { team.Id.ToString(), other.Id.ToString() };
            var agents = new List<string> { team.Manager.ToString(), team.Backend.ToString(), team.Frontend.ToString(), other.Backend.ToString(), "eng-backend" };
            var tasks = new List<string>();
            var first = await s.TaskAsync(team.Id, """{"title": "seed a", "assignee_id": "eng-backend"}""");
            tasks.Add(first.ToString());
            tasks.Add((await s.TaskAsync(team.Id, $$"""{"title": "seed b", "depends_on": [{{first}}]}""")).ToString());
            tasks.Add((await s.TaskAsync(other.Id, """{"title": "seed other"}""")).ToString());
            var expectedTasks = 3;
            var ids = () => (IReadOnlyList<string>)[.. tasks, .. agents, .. teams, org];
            var values = new FuzzValues(rng, ids);
            string[] junkIds = ["0", "-1", "99999999999999999999", "abc", "%F0%9F%98%80", "00000000-0000-0000-0000-000000000000", Guid.NewGuid().ToString(), "1.5", "%00", "..%2F..%2Fetc"];
            string Fill(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\{(org|team|agent|task|any|role|junk)\}", m =>
            {
                if (rng.Next(6) == 0) return values.Pick(junkIds);
                return m.Groups[1].Value switch
                {
                    "org" => org,
                    "team" => values.Pick(teams),
                    "agent" => values.Pick(agents),
                    "task" => values.Pick(tasks),
                    "role" => values.Pick(new[] { "manager", "engineer", "reviewer", "boss" }),
                    _ => values.Pick(new[] { "1", "2", values.Pick(tasks), Guid.NewGuid().ToString(), "junk" }),
                };
            });

            var statuses = new Dictionary<int, int>();
            for (var i = 0; i < Requests; i++)
            {
                var (method, path, template) = values.Pick(Routes);
                var url = Fill(path) + (method == "GET" ? values.Pick(Queries) : "");
                string? body = null;
                var contentType = "application/json";
                if (method != "GET" || rng.Next(10) == 0)
                {
                    var validish = template is null ? "{}" : Fill(template);
                    body = rng.Next(10) switch
                    {
                        0 or 1 => values.Value()?.ToJsonString() ?? "null",
                        2 => values.Object().ToJsonString(),
                        3 => values.Malformed(validish),
                        4 => validish,
                        _ => TryParse(validish) is JsonObject o ? values.Mutate(o).ToJsonString() : validish,
                    };
                    if (rng.Next(25) == 0) contentType = values.Pick(new[] { "text/plain", "application/xml", "multipart/form-data" });
                    if (rng.Next(40) == 0) body = null;
                }
                using var req = new HttpRequestMessage(new HttpMethod(method), url);
                if (body is not null) req.Content = new StringContent(body, Encoding.UTF8, contentType);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                using var r = await s.Http.SendAsync(req, cts.Token);
                var text = await r.Content.ReadAsStringAsync(cts.Token);
                var code = (int)r.StatusCode;
                statuses[code] = statuses.GetValueOrDefault(code) + 1;
                var what = $"request {i}: {method} {url} {body?[..Math.Min(body.Length, 2000)]} → {code} {text[..Math.Min(text.Length, 2000)]}";
                if (code >= 500) throw new InvalidOperationException($"{what}\nserver errors:\n{errors.Drain()}");
                if (code >= 400 && text.Length > 0) r.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", what);

                if (code == 201 && path.EndsWith("/tasks", StringComparison.Ordinal))
                {
                    tasks.Add(JsonNode.Parse(text)!["id"]!.ToString());
                    expectedTasks++;
                }
                else if (code == 201 && path.EndsWith("/tasks/batch", StringComparison.Ordinal))
                {
                    var created = JsonNode.Parse(text)!["tasks"]!.AsArray();
                    created.Count.ShouldBe(TryParse(body!)!["tasks"]!.AsArray().Count, "a batch answered 201 with a different number of tasks: " + what);
                    tasks.AddRange(created.Select(t => t!["id"]!.ToString()));
                    expectedTasks += created.Count;
                }
                else if (code == 201 && path.EndsWith("/agents", StringComparison.Ordinal))
                    agents.Add(JsonNode.Parse(text)!["id"]!.ToString());
                else if (code == 201 && path.EndsWith("/teams", StringComparison.Ordinal))
                    teams.Add(JsonNode.Parse(text)!["id"]!.ToString());
            }
            TestContext.Current.TestOutputHelper?.WriteLine("status codes: " + string.Join(", ", statuses.OrderBy(p => p.Key).Select(p => $"{p.Key}×{p.Value}")));
            await StoreInvariants.CheckAsync(s, expectedTasks);
        });
}

/// <summary>What must hold in the store whatever requests came before.</summary>
public static class StoreInvariants
{
    public static async Task CheckAsync(TestServer s, int expectedTasks)
    {
        await s.WithDbAsync(async db =>
        {
            var tasks = await db.Tasks.AsNoTracking().Select(t => new { t.Id, t.TeamId, t.Status }).ToListAsync();
            tasks.Count.ShouldBe(expectedTasks, "tasks exist that no successful create answered for (a half-created batch?)");
            var byId = tasks.ToDictionary(t => t.Id);
            tasks.ShouldAllBe(t => Enum.IsDefined(t.Status));
            var edges = await db.TaskDependencies.AsNoTracking().Select(e => new { e.TaskId, e.DependsOnId }).ToListAsync();
            foreach (var e in edges)
            {
                byId[e.TaskId].TeamId.ShouldBe(byId[e.DependsOnId].TeamId, $"edge {e.TaskId} → {e.DependsOnId} crosses teams");
                e.TaskId.ShouldNotBe(e.DependsOnId);
            }
            DagProperties.HasCycle(tasks.Count, Indexed(tasks.Select(t => t.Id).ToList(), edges.Select(e => (e.TaskId, e.DependsOnId)))).ShouldBeFalse("the task graph has a cycle");
            var created = await db.TaskEvents.AsNoTracking().Where(e => e.Kind == "created").Select(e => e.TaskId).ToListAsync();
            tasks.Select(t => t.Id).Except(created).ShouldBeEmpty("tasks without their created event");
            // A todo task that is not blocked, has an assignee, and is not held: it waits on a dispatch request.
            return 0;
        });
        var teams = (await s.GetAsync("/api/v1/orgs")).ShouldBe(HttpStatusCode.OK);
        teams.Json.AsArray().Count.ShouldBeGreaterThan(0);
    }

    private static (int, int)[] Indexed(List<long> ids, IEnumerable<(long From, long To)> edges)
    {
        var index = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        return edges.Select(e => (index[e.From], index[e.To])).ToArray();
    }
}

public sealed class RestFuzzContractSqlite() : RestFuzzContract(Store.Sqlite);

public sealed class RestFuzzContractPostgres() : RestFuzzContract(Store.Postgres);
