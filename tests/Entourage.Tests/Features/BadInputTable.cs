using System.Net;
using System.Text;
using Entourage.Tests.Infrastructure;

namespace Entourage.Tests.Features;

/// <summary>
/// A table of malformed requests against a populated team: each gets the expected 4xx as RFC 9457 problem
/// details naming what to fix, and the store is exactly as before (row counts, versions, settings, agents).
/// </summary>
public abstract class BadInputTable(Store store) : IAsyncLifetime
{
    private TestServer _s = null!;

    public async ValueTask InitializeAsync() => _s = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _s.DisposeAsync();

    private static readonly string Missing = Guid.NewGuid().ToString();

    // method, path, body, status, a text the answer must contain (the field or the fix)
    private static readonly (string Method, string Path, string? Body, int Status, string Mentions)[] Cases =
    [
        ("POST", "/api/v1/teams/{team}/tasks", """{"title": """, 400, "JSON"),
        ("POST", "/api/v1/teams/{team}/tasks", """{"title": "x", "asignee_id": "eng-backend"}""", 400, "asignee_id"),
        ("POST", "/api/v1/teams/{team}/tasks", """{"title": 5}""", 400, "title"),
        ("POST", "/api/v1/teams/{team}/tasks", """[]""", 400, "JSON"),
        ("POST", "/api/v1/teams/{team}/tasks", """{}""", 422, "title"),
        ("POST", "/api/v1/teams/{team}/tasks", $$"""{"title": "{{new string('t', 501)}}"}""", 422, "500"),
        ("POST", "/api/v1/teams/{team}/tasks", $$"""{"title": "x", "description": "{{new string('d', 20_001)}}"}""", 422, "description"),
        ("POST", "/api/v1/teams/{team}/tasks", """{"title": "x", "priority": "urgent"}""", 422, "low, medium, high, critical"),
        ("POST", "/api/v1/teams/{team}/tasks", """{"title": "x", "task_type": "epic"}""", 422, "task_type"),
        ("POST", "/api/v1/teams/{team}/tasks", """{"title": "x", "depends_on": ["abc"]}""", 400, "depends_on"),
        ("POST", "/api/v1/teams/{team}/tasks", """{"title": "x", "depends_on": [999999]}""", 422, "999999"),
        ("POST", "/api/v1/teams/{team}/tasks", """{"title": "x", "assignee_id": "ghost"}""", 422, "assignee_id"),
        ("POST", "/api/v1/teams/{team}/tasks", """{"title": "x", "parent_id": 999999}""", 422, "parent_id"),
        ("POST", "/api/v1/teams/no-such-team/tasks", """{"title": "x"}""", 404, "no-such-team"),
        ("POST", "/api/v1/teams/{team}/tasks/batch", """{"tasks": "x"}""", 400, "tasks"),
        ("POST", "/api/v1/teams/{team}/tasks/batch", """{"tasks": [{"title": "a", "depends_on_indices": [0]}]}""", 422, "tasks[0].depends_on_indices"),
        ("POST", "/api/v1/teams/{team}/tasks/batch", """{"tasks": [{"title": "a"}, {"title": ""}]}""", 422, "tasks[1].title"),
        ("GET", "/api/v1/tasks/abc", null, 400, "task_id"),
        ("GET", "/api/v1/tasks/999999", null, 404, "999999"),
        ("POST", "/api/v1/tasks/{task}/status", """{"status": "done"}""", 409, "in_progress, cancelled"),
        ("POST", "/api/v1/tasks/{task}/status", """{"status": 3}""", 400, "status"),
        ("POST", "/api/v1/tasks/{task}/status", """{}""", 422, "status"),
        ("POST", "/api/v1/tasks/{blocked}/status", """{"status": "in_progress"}""", 409, "is blocked by task"),
        ("POST", "/api/v1/tasks/{task}/assign", """{"assignee_id": "ghost"}""", 422, "assignee_id"),
        ("POST", "/api/v1/tasks/{task}/assign", """{"assignee": "eng-backend"}""", 400, "assignee"),
        ("PATCH", "/api/v1/tasks/{task}", """{"depends_on": [{task}]}""", 422, "itself"),
        ("PATCH", "/api/v1/tasks/{task}", """{"depends_on": [{blocked}]}""", 422, "cycle"),
        ("PATCH", "/api/v1/tasks/{task}", """{"title": ""}""", 422, "title"),
        ("GET", "/api/v1/tasks/{task}/events?limit=0", null, 422, "limit"),
        ("GET", "/api/v1/teams/{team}/tasks?assignee=ghost", null, 422, "assignee"),
        ("GET", "/api/v1/teams/{team}/tasks?status=doing", null, 422, "status"),
        ("POST", "/api/v1/teams/{team}/messages", """{"recipient_id": "ghost", "body": "x"}""", 422, "recipient_id"),
        ("POST", "/api/v1/teams/{team}/messages", """{"body": "x"}""", 422, "recipient_id"),
        ("POST", "/api/v1/teams/{team}/messages", """{"recipient_id": "eng-backend", "body": "x", "task_id": 999999}""", 422, "task_id"),
        ("GET", "/api/v1/agents/not-a-guid/inbox", null, 400, "agent_id"),
        ("GET", $"/api/v1/agents/{Missing}/inbox", null, 404, Missing),
        ("POST", "/api/v1/agents/{agent}/inbox/read", """{"message_ids": [999999]}""", 422, "999999"),
        ("POST", "/api/v1/teams/{team}/agents", """{"name": ""}""", 422, "name"),
        ("POST", "/api/v1/teams/{team}/agents", """{"name": "x", "role": "boss"}""", 400, "role"),
        ("POST", "/api/v1/teams/{team}/agents", """{"name": "eng-backend"}""", 409, "unique"),
        ("PATCH", "/api/v1/agents/{agent}", """{"nam": "x"}""", 400, "nam"),
        ("DELETE", $"/api/v1/agents/{Missing}", null, 404, Missing),
        ("DELETE", "/api/v1/agents/{manager}", null, 409, "manager"),
        ("POST", "/api/v1/tasks/wait", """{"task_ids": [999999]}""", 422, "999999"),
        ("POST", "/api/v1/tasks/wait", """{"task_ids": [{task}], "timeout_seconds": "soon"}""", 400, "timeout_seconds"),
        ("POST", "/api/v1/tasks/wait", """{"task_ids": [{task}], "timeout_seconds": 99999999}""", 422, "timeout_seconds"),
        ("PATCH", "/api/v1/settings/teams/{team}", """{"daily_cost_limit_usd": 1e308}""", 422, "from 0 to 1000000"),
        ("PATCH", "/api/v1/settings/teams/{team}", """{"daily_cost_limit_usd": 1e12}""", 422, "daily_cost_limit_usd"),
        ("PATCH", "/api/v1/settings/teams/{team}", """{"max_concurrent_agents": -1}""", 422, "max_concurrent_agents"),
        ("PATCH", "/api/v1/settings/teams/{team}", """{"require_review": null}""", 422, "require_review"),
    ];

    [Fact]
    public async Task Every_malformed_request_is_a_4xx_problem_that_changes_nothing()
    {
        var t = await _s.TeamAsync();
        var task = await _s.TaskAsync(t.Id, $$"""{"title": "A", "assignee_id": "{{t.Backend}}"}""");
        var blocked = await _s.TaskAsync(t.Id, $$"""{"title": "B", "depends_on": [{{task}}]}""");
        string Fill(string s) => s.Replace("{team}", t.Id.ToString()).Replace("{task}", task.ToString()).Replace("{blocked}", blocked.ToString())
            .Replace("{agent}", t.Backend.ToString()).Replace("{manager}", t.Manager.ToString());

        var failures = new List<string>();
        foreach (var c in Cases)
        {
            var before = await _s.FingerprintAsync();
            var r = await _s.SendAsync(new HttpMethod(c.Method), Fill(c.Path), c.Body is null ? null : Fill(c.Body));
            var after = await _s.FingerprintAsync();
            var name = $"{c.Method} {c.Path} {c.Body?[..Math.Min(60, c.Body.Length)]}";
            if ((int)r.Status != c.Status) failures.Add($"{name}: expected {c.Status}, got {(int)r.Status} {r.Text}");
            else if (r.ContentType != "application/problem+json") failures.Add($"{name}: content type {r.ContentType}");
            else if (!r.Text.Contains(c.Mentions, StringComparison.Ordinal)) failures.Add($"{name}: answer does not mention '{c.Mentions}': {r.Text}");
            if (after != before) failures.Add($"{name}: the store changed");
        }

        // Bodies over the server's limit and non-JSON content are refused before any handler runs.
        // Expect: 100-continue lets the server refuse by Content-Length before the client streams 2 MB; without it
        // the server may answer 413 and close while the client is still writing (a broken pipe, not an answer).
        using var hugeRequest = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/teams/{t.Id}/tasks")
        {
            Content = new StringContent($$"""{"title": "x", "description": "{{new string('d', 2_000_000)}}"}""", Encoding.UTF8, "application/json"),
        };
        hugeRequest.Headers.ExpectContinue = true;
        var huge = await _s.Http.SendAsync(hugeRequest);
        ((int)huge.StatusCode).ShouldBe(413);
        var text = await _s.Http.PostAsync($"/api/v1/teams/{t.Id}/tasks", new StringContent("title=x", Encoding.UTF8, "text/plain"));
        ((int)text.StatusCode).ShouldBe(415);
        failures.ShouldBeEmpty();
    }
}

public sealed class BadInputTableSqlite() : BadInputTable(Store.Sqlite);

public sealed class BadInputTablePostgres() : BadInputTable(Store.Postgres);
