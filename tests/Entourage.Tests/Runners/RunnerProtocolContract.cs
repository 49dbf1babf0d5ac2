using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Runners;

/// <summary>
/// Runner tokens and the runner protocol (issue #10) spoken by hand against a real server that runs no agents
/// itself: every call a runner makes, what it is refused, and that a turn claimed over HTTP ends through the same
/// completion path as a local one (requests settled, retries up to max attempts, duplicates change nothing).
/// </summary>
public abstract class RunnerProtocolContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(store, FastSettings(new Dictionary<string, string?>
    {
        ["Dispatch:Enabled"] = "false",
        // Long enough that nothing here is swept while the test speaks the protocol by hand.
        ["Dispatch:LeaseSeconds"] = "60",
        ["Dispatch:MaxAttempts"] = "2",
    }));

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private async Task<(Guid Id, string Token)> MintAsync(string name, string? labels = null)
    {
        var t = await _server.PostJsonAsync("/api/v1/runner-tokens", labels is null ? $$"""{"name": "{{name}}"}""" : $$"""{"name": "{{name}}", "labels": {{labels}}}""");
        return (t["id"]!.GetValue<Guid>(), t["token"]!.GetValue<string>());
    }

    private HttpClient As(string token)
    {
        var http = new HttpClient { BaseAddress = _server.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> PostAsync(HttpClient http, string path, string json)
    {
        using var r = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await r.Content.ReadAsStringAsync();
        return (r.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    /// <summary>A registered runner node (its client, which the caller disposes) and a ready task of a FakeAgent engineer.</summary>
    private async Task<(HttpClient Runner, string Node, long Task)> RegisteredRunnerWithReadyTaskAsync()
    {
        var (_, token) = await MintAsync("box");
        var runner = As(token);
        var node = await RegisterAsync(runner);
        var team = await CreateTeamAsync(_server);
        var agent = await AddFakeAgentAsync(_server, team, "eng", Script());
        return (runner, node, await AddReadyTaskAsync(_server, team, agent, "Add the endpoint"));
    }

    private static async Task<string> RegisterAsync(HttpClient runner, string name = "box-1", string extra = "")
    {
        var (status, body) = await PostAsync(runner, "/api/v1/runner/register", $$"""{"name": "{{name}}", "capacity": 2, "version": "test"{{extra}}}""");
        status.ShouldBe(HttpStatusCode.OK, body?.ToJsonString());
        return body!["node_id"]!.GetValue<string>();
    }

    [Fact]
    public async Task A_runner_token_is_shown_once_stored_hashed_and_refused_with_401_once_revoked()
    {
        var (id, token) = await MintAsync("gpu-box", """["GPU", "eu-west"]""");
        token.ShouldStartWith("ent_runner_");
        var listed = (await _server.GetJsonAsync("/api/v1/runner-tokens")).AsArray().Single()!;
        listed["token"].ShouldBeNull();
        token.ShouldStartWith(listed["prefix"]!.GetValue<string>());
        listed["labels"]!.AsArray().Select(l => l!.GetValue<string>()).ShouldBe(["eu-west", "gpu"]);
        await using (var db = Db(_server)) (await db.RunnerTokens.SingleAsync()).Hash.ShouldNotContain(token[11..]);

        using var runner = As(token);
        var node = await RegisterAsync(runner);
        // The node is visible like any other, with the token's labels (the runner named none).
        var shown = (await _server.GetJsonAsync($"/api/v1/nodes?id={node}")).AsArray().Single()!;
        shown["role"]!.GetValue<string>().ShouldBe("runner");
        shown["labels"]!.AsArray().Select(l => l!.GetValue<string>()).ShouldBe(["eu-west", "gpu"]);
        shown["max_concurrent_turns"]!.GetValue<int>().ShouldBe(2);
        shown["version"]!.GetValue<string>().ShouldBe("test");

        (await _server.Http.DeleteAsync($"/api/v1/runner-tokens/{id}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var (status, problem) = await PostAsync(runner, "/api/v1/runner/heartbeat", $$"""{"node_id": "{{node}}"}""");
        status.ShouldBe(HttpStatusCode.Unauthorized);
        problem!["detail"]!.GetValue<string>().ShouldContain("revoked");
        (await PostAsync(runner, "/api/v1/runner/register", """{"name": "again"}""")).Status.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_runner_token_reaches_only_the_runner_protocol_and_only_a_runner_token_reaches_it()
    {
        var (_, token) = await MintAsync("box");
        using var runner = As(token);
        foreach (var path in new[] { "/api/v1/orgs", "/api/v1/nodes", "/api/v1/runner-tokens", "/api/v1/human-requests", "/openapi/v1.json", "/" })
        {
            using var r = await runner.GetAsync(path);
            r.StatusCode.ShouldBe(HttpStatusCode.Forbidden, path);
        }
        var org = await _server.DefaultOrgIdAsync();
        (await PostAsync(runner, $"/api/v1/orgs/{org}/teams", """{"name": "x", "slug": "x"}""")).Status.ShouldBe(HttpStatusCode.Forbidden);
        (await PostAsync(runner, "/api/v1/runner-tokens", """{"name": "escape"}""")).Status.ShouldBe(HttpStatusCode.Forbidden);

        // The local user (or the admin) has no runner node to act for.
        var (status, problem) = await PostAsync(_server.Http, "/api/v1/runner/register", """{"name": "me"}""");
        status.ShouldBe(HttpStatusCode.Forbidden);
        problem!["detail"]!.GetValue<string>().ShouldContain("runner token");
        // An agent token neither.
        var team = await CreateTeamAsync(_server);
        var agent = await AddFakeAgentAsync(_server, team, "eng", Script());
        var agentToken = (await _server.PostJsonAsync($"/api/v1/agents/{agent}/token/rotate", "{}"))["token"]!.GetValue<string>();
        using var asAgent = As(agentToken);
        (await PostAsync(asAgent, "/api/v1/runner/claim", """{"node_id": "x"}""")).Status.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Bad_bodies_are_refused_naming_the_field_and_change_nothing()
    {
        var (_, token) = await MintAsync("box", """["gpu"]""");
        using var runner = As(token);
        async Task Refused(string path, string json, HttpStatusCode status, params string[] fields)
        {
            var (s, body) = await PostAsync(runner, path, json);
            s.ShouldBe(status, $"{path} {json}: {body?.ToJsonString()}");
            body!["type"].ShouldNotBeNull();
            foreach (var f in fields) body["errors"]!.AsObject().ContainsKey(f).ShouldBeTrue($"{path} {json} names {f}: {body.ToJsonString()}");
        }
        await Refused("/api/v1/runner/register", "{}", HttpStatusCode.UnprocessableEntity, "name");
        await Refused("/api/v1/runner/register", """{"name": "bad name!", "capacity": 0, "labels": ["GPU!"]}""", HttpStatusCode.UnprocessableEntity, "name", "capacity", "labels[0]");
        await Refused("/api/v1/runner/register", """{"name": "box", "labels": ["cpu"]}""", HttpStatusCode.UnprocessableEntity, "labels");
        var (s400, unknown) = await PostAsync(runner, "/api/v1/runner/register", """{"name": "box", "capacty": 2}""");
        s400.ShouldBe(HttpStatusCode.BadRequest);
        unknown!.ToJsonString().ShouldContain("capacty");
        (await PostAsync(runner, "/api/v1/runner/register", "{not json")).Status.ShouldBe(HttpStatusCode.BadRequest);
        await using (var db = Db(_server)) (await db.Nodes.CountAsync(n => n.Role == "runner")).ShouldBe(0);

        var node = await RegisterAsync(runner);
        await Refused("/api/v1/runner/claim", "{}", HttpStatusCode.UnprocessableEntity, "node_id");
        await Refused("/api/v1/runner/claim", $$"""{"node_id": "{{node}}", "wait_seconds": 99, "adapters": ["command", "nope"]}""", HttpStatusCode.UnprocessableEntity, "wait_seconds", "adapters[1]");
        await Refused("/api/v1/runner/claim", $$"""{"node_id": "{{node}}", "missing_executables": ["claude", ""]}""", HttpStatusCode.UnprocessableEntity, "missing_executables[1]");
        await Refused("/api/v1/runner/heartbeat", """{"running_turns": ["not-a-uuid"]}""", HttpStatusCode.BadRequest);
        var turn = Guid.NewGuid();
        await Refused($"/api/v1/runner/turns/{turn}/complete", $$"""{"node_id": "{{node}}", "outcome": "maybe", "usage": {"input_tokens": -1, "output_tokens": 0, "cache_read_tokens": 0, "cache_write_tokens": 0, "cost_usd": 0} }""",
            HttpStatusCode.UnprocessableEntity, "outcome", "usage");
        await Refused($"/api/v1/runner/turns/{turn}/complete", $$"""{"node_id": "{{node}}", "outcome": "succeeded", "push": {"branch": "entourage/x"} }""", HttpStatusCode.UnprocessableEntity, "push");
        await Refused($"/api/v1/runner/turns/{turn}/log", $$"""{"node_id": "{{node}}"}""", HttpStatusCode.UnprocessableEntity, "lines");
        await Refused($"/api/v1/runner/turns/{turn}/workspace", $$"""{"node_id": "{{node}}", "branch": "entourage/x"}""", HttpStatusCode.UnprocessableEntity, "working_directory", "worktree_path");
        // Well-formed, but not a turn of this node / not a node of this token.
        (await PostAsync(runner, $"/api/v1/runner/turns/{turn}/log", $$"""{"node_id": "{{node}}", "lines": ["x"]}""")).Status.ShouldBe(HttpStatusCode.NotFound);
        (await PostAsync(runner, "/api/v1/runner/heartbeat", """{"node_id": "someone-else"}""")).Status.ShouldBe(HttpStatusCode.NotFound);
        await using (var db = Db(_server)) (await db.Nodes.CountAsync(n => n.Role == "runner")).ShouldBe(1);
    }

    [Fact]
    public async Task A_turn_claimed_over_http_runs_its_course_and_a_duplicate_completion_is_409_and_changes_nothing()
    {
        var (_, token) = await MintAsync("box");
        using var runner = As(token);
        var node = await RegisterAsync(runner);
        // Nothing to do yet: an immediate answer.
        (await PostAsync(runner, "/api/v1/runner/claim", $$"""{"node_id": "{{node}}", "wait_seconds": 0}""")).Status.ShouldBe(HttpStatusCode.NoContent);

        var team = await CreateTeamAsync(_server);
        var agent = await AddFakeAgentAsync(_server, team, "eng", Script());
        // The long poll is waiting when the work arrives: the doorbell wakes it.
        var claim = PostAsync(runner, "/api/v1/runner/claim", $$"""{"node_id": "{{node}}", "adapters": ["command"]}""");
        await SendMessageAsync(_server, team, agent, "please add the endpoint");
        var (status, a) = await claim;
        status.ShouldBe(HttpStatusCode.OK, a?.ToJsonString());
        var turnId = a!["turn_id"]!.GetValue<Guid>();
        a["agent_id"]!.GetValue<Guid>().ShouldBe(agent);
        a["adapter"]!.GetValue<string>().ShouldBe("command");
        a["config"]!["command"]!.GetValue<string>().ShouldBe(DotnetHost);
        a["prompt"]!.GetValue<string>().ShouldContain("please add the endpoint");
        a["token"]!.GetValue<string>().ShouldStartWith("ent_turn_");
        var url = _server.BaseUrl.ToString().TrimEnd('/');
        a["server_url"]!.GetValue<string>().ShouldBe(url);
        a["mcp_url"]!.GetValue<string>().ShouldBe(url + "/mcp");
        a["environment"]!["ENTOURAGE_URL"]!.GetValue<string>().ShouldBe(url);
        a["environment"]!["ENTOURAGE_AGENT_TOKEN"]!.GetValue<string>().ShouldBe(a["token"]!.GetValue<string>());

        // The agent's turn token works on the API while the turn runs, like a local turn's.
        using (var asTurn = As(a["token"]!.GetValue<string>()))
            (await asTurn.GetAsync($"/api/v1/agents/{agent}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        // One turn per agent: the agent is busy, so a second claim finds nothing.
        (await PostAsync(runner, "/api/v1/runner/claim", $$"""{"node_id": "{{node}}", "wait_seconds": 0}""")).Status.ShouldBe(HttpStatusCode.NoContent);
        var shown = (await _server.GetJsonAsync($"/api/v1/nodes?id={node}")).AsArray().Single()!;
        shown["running_turns"]!.GetValue<int>().ShouldBe(1);

        (await PostAsync(runner, $"/api/v1/runner/turns/{turnId}/workspace", $$"""{"node_id": "{{node}}", "working_directory": "/srv/runner/agents/x"}""")).Status.ShouldBe(HttpStatusCode.NoContent);
        (await PostAsync(runner, $"/api/v1/runner/turns/{turnId}/log", $$"""{"node_id": "{{node}}", "lines": ["hello from the runner", ""]}""")).Status.ShouldBe(HttpStatusCode.NoContent);
        var (hb, beat) = await PostAsync(runner, "/api/v1/runner/heartbeat", $$"""{"node_id": "{{node}}", "running_turns": ["{{turnId}}"]}""");
        hb.ShouldBe(HttpStatusCode.OK);
        beat!["stop"]!.AsArray().ShouldBeEmpty();

        var complete = $$"""{"node_id": "{{node}}", "outcome": "succeeded", "exit_code": 0, "usage": {"input_tokens": 10, "output_tokens": 5, "cache_read_tokens": 0, "cache_write_tokens": 0, "cost_usd": 0.25, "model": "fake"} }""";
        var (done, answer) = await PostAsync(runner, $"/api/v1/runner/turns/{turnId}/complete", complete);
        done.ShouldBe(HttpStatusCode.OK, answer?.ToJsonString());
        answer!["state"]!.GetValue<string>().ShouldBe("succeeded");
        var (again, conflict) = await PostAsync(runner, $"/api/v1/runner/turns/{turnId}/complete", complete);
        again.ShouldBe(HttpStatusCode.Conflict);
        conflict!["state"]!.GetValue<string>().ShouldBe("succeeded");

        await using var db = Db(_server);
        var turn = await db.Turns.AsNoTracking().SingleAsync(t => t.Id == turnId);
        turn.State.ShouldBe(TurnState.Succeeded);
        turn.Node.ShouldBe(node);
        turn.WorkingDirectory.ShouldBe("/srv/runner/agents/x");
        turn.Log.ShouldContain("hello from the runner\n");
        turn.CostUsd.ShouldBe(0.25);
        (await db.UsageRecords.CountAsync(u => u.TurnId == turnId)).ShouldBe(1);
        (await db.DispatchRequests.Where(d => d.AgentId == agent).Select(d => d.State).ToListAsync()).ShouldAllBe(s => s == DispatchState.Done);
        // The runner learns that the turn it still names is over.
        var (_, after) = await PostAsync(runner, "/api/v1/runner/heartbeat", $$"""{"node_id": "{{node}}", "running_turns": ["{{turnId}}"]}""");
        after!["stop"]!.AsArray().Single()!["turn_id"]!.GetValue<Guid>().ShouldBe(turnId);
        (await PostAsync(runner, $"/api/v1/runner/turns/{turnId}/log", $$"""{"node_id": "{{node}}", "lines": ["late"]}""")).Status.ShouldBe(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_claim_skips_agents_whose_executable_the_runner_lacks_and_a_cancelled_tasks_turn_is_told_to_stop()
    {
        var (runner, node, task) = await RegisteredRunnerWithReadyTaskAsync();
        using var _ = runner;
        // The agent runs the dotnet host: a runner that says it lacks it is not given the turn.
        var lacking = new JsonObject { ["node_id"] = node, ["wait_seconds"] = 0, ["missing_executables"] = new JsonArray(DotnetHost) };
        (await PostAsync(runner, "/api/v1/runner/claim", lacking.ToJsonString())).Status.ShouldBe(HttpStatusCode.NoContent);
        var (status, a) = await PostAsync(runner, "/api/v1/runner/claim", $$"""{"node_id": "{{node}}", "wait_seconds": 0, "missing_executables": ["claude"]}""");
        status.ShouldBe(HttpStatusCode.OK, a?.ToJsonString());
        var turnId = a!["turn_id"]!.GetValue<Guid>();

        // Cancelled while the runner runs it: the runner's next heartbeat is told to stop it.
        await _server.PostJsonAsync($"/api/v1/tasks/{task}/status", """{"status": "cancelled"}""");
        var (hb, beat) = await PostAsync(runner, "/api/v1/runner/heartbeat", $$"""{"node_id": "{{node}}", "running_turns": ["{{turnId}}"]}""");
        hb.ShouldBe(HttpStatusCode.OK);
        var stop = beat!["stop"]!.AsArray().Single()!;
        stop["turn_id"]!.GetValue<Guid>().ShouldBe(turnId);
        stop["kind"]!.GetValue<string>().ShouldBe("ended");
        stop["reason"]!.GetValue<string>().ShouldContain("cancelled");
        var (done, answer) = await PostAsync(runner, $"/api/v1/runner/turns/{turnId}/complete", $$"""{"node_id": "{{node}}", "outcome": "cancelled", "error": "{{stop["reason"]!.GetValue<string>()}}"}""");
        done.ShouldBe(HttpStatusCode.OK, answer?.ToJsonString());
        answer!["state"]!.GetValue<string>().ShouldBe("cancelled");
    }

    [Fact]
    public async Task Failed_turns_over_http_are_retried_then_fail_the_task_after_max_attempts_like_local_ones()
    {
        var (runner, node, task) = await RegisteredRunnerWithReadyTaskAsync();
        using var _ = runner;
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var (status, a) = await PostAsync(runner, "/api/v1/runner/claim", $$"""{"node_id": "{{node}}"}""");
            status.ShouldBe(HttpStatusCode.OK, $"attempt {attempt}");
            a!["task_id"]!.GetValue<long>().ShouldBe(task);
            a["attempt"]!.GetValue<int>().ShouldBe(attempt);
            a["task_branch"]!.GetValue<string>().ShouldStartWith($"entourage/task-{task}-");
            var id = a["turn_id"]!.GetValue<Guid>();
            (await PostAsync(runner, $"/api/v1/runner/turns/{id}/complete", $$"""{"node_id": "{{node}}", "outcome": "failed", "exit_code": 3, "error": "the agent crashed"}""")).Status.ShouldBe(HttpStatusCode.OK);
        }
        await using var db = Db(_server);
        var t = await db.Tasks.AsNoTracking().SingleAsync(x => x.Id == task);
        t.Status.ShouldBe(TaskState.Failed);
        (await db.DispatchRequests.Where(d => d.TaskId == task).Select(d => d.State).ToListAsync()).ShouldAllBe(s => s == DispatchState.Dead);
        (await db.Turns.CountAsync(x => x.TaskId == task && x.State == TurnState.Failed)).ShouldBe(2);
        (await PostAsync(runner, "/api/v1/runner/claim", $$"""{"node_id": "{{node}}", "wait_seconds": 0}""")).Status.ShouldBe(HttpStatusCode.NoContent);
    }
}

public sealed class RunnerProtocolSqlite() : RunnerProtocolContract(Store.Sqlite);

public sealed class RunnerProtocolPostgres() : RunnerProtocolContract(Store.Postgres);
