using System.Net;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Dispatch;

/// <summary>The dispatcher's contract on one server, run once per store.</summary>
public abstract class DispatcherContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _records = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync(store, FastSettings());
        _records = Path.Combine(_server.DataDirectory, "records");
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_message_wakes_one_turn_that_records_usage_log_and_cost()
    {
        var team = await CreateTeamAsync(_server);
        var script = Script(Step("print", new { text = "working on {agent_id}" }), Step("usage", new { cost = 0.25, input = 1000, output = 200, cache_read = 50, session = "sess-1" }));
        script["record_dir"] = _records;
        var agent = await AddFakeAgentAsync(_server, team, "eng-backend", script);

        var messageId = await SendMessageAsync(_server, team, agent, "Use the same auth pattern as /auth/me.");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.AgentId == agent && t.State == TurnState.Succeeded), "the turn to succeed");

        var turns = (await _server.GetJsonAsync($"/api/v1/agents/{agent}/turns")).AsArray();
        turns.Count.ShouldBe(1);
        var turn = await _server.GetJsonAsync($"/api/v1/turns/{turns[0]!["id"]}");
        turn["state"]!.GetValue<string>().ShouldBe("succeeded");
        turn["exit_code"]!.GetValue<int>().ShouldBe(0);
        turn["usage"]!["cost_usd"]!.GetValue<double>().ShouldBe(0.25);
        turn["usage"]!["input_tokens"]!.GetValue<long>().ShouldBe(1000);
        turn["usage"]!["cache_read_tokens"]!.GetValue<long>().ShouldBe(50);
        turn["session_id"]!.GetValue<string>().ShouldBe("sess-1");
        turn["log"]!.GetValue<string>().ShouldContain($"working on {agent}");
        turn["requests"]!.AsArray().Single()!["reason"]!.GetValue<string>().ShouldBe("message");

        var record = JsonNode.Parse(await File.ReadAllTextAsync(Directory.GetFiles(_records, "*.start.json").Single()))!;
        record["tags"]!.AsArray().Select(t => t!.GetValue<string>()).ShouldContain($"[message:{messageId}]");
        record["has_token"]!.GetValue<bool>().ShouldBeTrue();
        var envKeys = record["env_keys"]!.AsArray().Select(k => k!.GetValue<string>()).ToList();
        envKeys.ShouldContain("ENTOURAGE_URL");
        envKeys.ShouldContain("ENTOURAGE_AGENT_ID");
        envKeys.ShouldNotContain("ENTOURAGE_TEST_POSTGRES");

        var costs = await _server.GetJsonAsync($"/api/v1/teams/{team}/costs");
        costs["total_usd"]!.GetValue<double>().ShouldBe(0.25);
        costs["by_agent"]!.AsArray().Single()!["agent_name"]!.GetValue<string>().ShouldBe("eng-backend");
        costs["by_day"]!.AsArray().Count.ShouldBe(1);
    }

    [Fact]
    public async Task Messages_that_arrive_during_a_turn_are_coalesced_into_exactly_one_next_turn()
    {
        var team = await CreateTeamAsync(_server);
        var gate = Path.Combine(_server.DataDirectory, "gate");
        var started = Path.Combine(_server.DataDirectory, "started-{turn_id}");
        var script = Script(Step("touch", new { path = started }), Step("wait_file", new { path = gate }));
        script["record_dir"] = _records;
        var agent = await AddFakeAgentAsync(_server, team, "eng", script);

        var first = await SendMessageAsync(_server, team, agent, "first");
        await WaitUntilAsync(_server, _ => Task.FromResult(Directory.GetFiles(_server.DataDirectory, "started-*").Length == 1), "the first turn to start");
        var later = new List<long>();
        for (var i = 0; i < 5; i++) later.Add(await SendMessageAsync(_server, team, agent, $"later {i}"));
        await File.WriteAllTextAsync(gate, "go");
        await WaitUntilAsync(_server, async db => await db.DispatchRequests.CountAsync(d => d.State == DispatchState.Done) == 6, "all six requests to be done");

        var records = Directory.GetFiles(_records, "*.start.json").Select(f => JsonNode.Parse(File.ReadAllText(f))!).ToList();
        records.Count.ShouldBe(2);
        var tags = records.SelectMany(r => r["tags"]!.AsArray().Select(t => t!.GetValue<string>())).Where(t => t.StartsWith("[message:", StringComparison.Ordinal)).ToList();
        tags.Order().ShouldBe(later.Prepend(first).Select(id => $"[message:{id}]").Order());
    }

    [Fact]
    public async Task Each_of_an_agents_ready_tasks_gets_its_own_turn()
    {
        // Three ready tasks of one agent arrive in one batch, so all three task_ready requests are pending when the
        // first turn is claimed. That turn works one task; the other two must still get turns of their own.
        var team = await CreateTeamAsync(_server);
        await DispatchHarnessExtras.PatchSettingsAsync(_server, team, """{"require_review": false}""");
        var agent = await AddFakeAgentAsync(_server, team, "eng", Script(
            Step("http", new { method = "POST", path = "/api/v1/tasks/{task_id}/status", body = new { status = "done" } })));
        var batch = await _server.PostJsonAsync($"/api/v1/teams/{team}/tasks/batch", new JsonObject
        {
            ["tasks"] = new JsonArray(
                new JsonObject { ["title"] = "Create notifications table", ["assignee_id"] = agent.ToString() },
                new JsonObject { ["title"] = "Add notification API", ["assignee_id"] = agent.ToString() },
                new JsonObject { ["title"] = "Document notifications", ["assignee_id"] = agent.ToString() }),
        }.ToJsonString());
        var ids = (batch["tasks"] as JsonArray ?? batch.AsArray()).Select(t => t!["id"]!.GetValue<long>()).ToArray();

        // A turn marks its task done and only then ends, so wait for the turns to end as well.
        await WaitUntilAsync(_server, async db =>
            await db.Tasks.CountAsync(t => ids.Contains(t.Id) && t.Status == TaskState.Done) == 3
            && !await db.Turns.AnyAsync(t => t.AgentId == agent && t.State == TurnState.Running), "all three tasks done and their turns ended");

        await using var db = Db(_server);
        var turns = await db.Turns.Where(t => t.AgentId == agent).ToListAsync();
        turns.Select(t => t.TaskId).Order().ShouldBe(ids.Select(i => (long?)i).Order(), "one turn per task");
        turns.ShouldAllBe(t => t.State == TurnState.Succeeded);
        (await db.DispatchRequests.Where(d => d.AgentId == agent).Select(d => d.State).ToListAsync()).ShouldAllBe(s => s == DispatchState.Done);
    }

    [Fact]
    public async Task An_engineer_starts_its_next_ready_task_only_once_the_one_in_progress_leaves_in_progress()
    {
        // DESIGN §1: engineers work one task at a time. This agent's turns leave their task in progress.
        var team = await CreateTeamAsync(_server);
        await DispatchHarnessExtras.PatchSettingsAsync(_server, team, """{"require_review": false}""");
        var agent = await AddFakeAgentAsync(_server, team, "eng", Script(Step("print", new { text = "looked at {task_id}" })));
        async Task<long> TaskAsync(string title) =>
            (await _server.PostJsonAsync($"/api/v1/teams/{team}/tasks", $$"""{"title": "{{title}}", "assignee_id": "{{agent}}"}"""))["id"]!.GetValue<long>();
        Task TurnEndedAsync(Func<Entourage.Server.Storage.Entities.Turn, bool> which, string what) =>
            WaitUntilAsync(_server, async db => (await db.Turns.Where(t => t.AgentId == agent && t.State != TurnState.Running).ToListAsync()).Count(which) == 1, what);

        var first = await TaskAsync("Create notifications table");
        await TurnEndedAsync(t => t.TaskId == first, "the first task's turn to end");
        var second = await TaskAsync("Add notification API");

        // A message wakes the agent on the task it has in progress; the second task's wake-up waits, pending.
        await SendMessageAsync(_server, team, agent, "How is the table going?");
        await WaitUntilAsync(_server, async db => await db.Turns.CountAsync(t => t.AgentId == agent && t.State != TurnState.Running) == 2, "the message's turn to end");
        await using (var db = Db(_server))
        {
            (await db.Turns.Where(t => t.AgentId == agent).Select(t => t.TaskId).ToListAsync()).ShouldBe([first, first], ignoreOrder: true);
            (await db.Tasks.SingleAsync(t => t.Id == second)).Status.ShouldBe(TaskState.Todo);
            (await db.DispatchRequests.SingleAsync(d => d.TaskId == second && d.Reason == DispatchReason.TaskReady)).State.ShouldBe(DispatchState.Pending);
        }

        // The first task leaves in_progress: the second starts at once, on its own turn.
        (await _server.PostJsonAsync($"/api/v1/tasks/{first}/status", """{"status": "done"}"""))["status"]!.GetValue<string>().ShouldBe("done");
        await TurnEndedAsync(t => t.TaskId == second, "the second task's turn to end");
        await using (var db = Db(_server))
            (await db.Tasks.SingleAsync(t => t.Id == second)).Status.ShouldBe(TaskState.InProgress);
    }

    [Fact]
    public async Task Cancelling_a_running_turn_kills_its_process_and_drops_its_work()
    {
        var team = await CreateTeamAsync(_server);
        var agent = await AddFakeAgentAsync(_server, team, "eng", Script(Step("print", new { text = "about to hang" }), Step("hang")));
        await SendMessageAsync(_server, team, agent, "do something slow");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.AgentId == agent && t.Log.Contains("hanging")), "the agent to hang");
        var turnId = (await _server.GetJsonAsync($"/api/v1/agents/{agent}/turns"))[0]!["id"]!.GetValue<Guid>();

        var agents = await _server.GetJsonAsync($"/api/v1/teams/{team}");
        agents["agents"]!.AsArray().Single(a => a!["id"]!.GetValue<Guid>() == agent)!["status"]!.GetValue<string>().ShouldBe("busy");

        var cancelled = await _server.PostJsonAsync($"/api/v1/turns/{turnId}/cancel", """{"reason": "wrong approach"}""");
        cancelled["state"]!.GetValue<string>().ShouldBe("cancelled");
        cancelled["error"]!.GetValue<string>().ShouldContain("wrong approach");
        await using var db = Db(_server);
        (await db.DispatchRequests.SingleAsync()).State.ShouldBe(DispatchState.Done);

        var again = await _server.Http.PostAsync($"/api/v1/turns/{turnId}/cancel", null);
        again.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await _server.Http.GetAsync($"/api/v1/turns/{Guid.NewGuid()}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        agents = await _server.GetJsonAsync($"/api/v1/teams/{team}");
        agents["agents"]!.AsArray().Single(a => a!["id"]!.GetValue<Guid>() == agent)!["status"]!.GetValue<string>().ShouldBe("idle");
    }

    [Fact]
    public async Task A_claimed_ready_task_moves_to_in_progress_with_the_dispatchers_two_timeline_entries_in_order()
    {
        var team = await CreateTeamAsync(_server);
        var gate = Path.Combine(_server.DataDirectory, "gate-start");
        var agent = await AddFakeAgentAsync(_server, team, "eng", Script(Step("wait_file", new { path = gate })));
        var blocker = await AddTaskAsync(_server, team, null, "Blocker");
        var blocked = await AddTaskAsync(_server, team, agent, "Waits for the blocker", blocker);
        var task = await AddReadyTaskAsync(_server, team, agent, "Create GET endpoint");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.AgentId == agent && t.State == TurnState.Running), "the turn to start");

        var dto = await _server.GetJsonAsync($"/api/v1/tasks/{task}");
        dto["status"]!.GetValue<string>().ShouldBe("in_progress");
        dto["started_at"].ShouldNotBeNull();
        await using (var db = Db(_server))
        {
            var row = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == task);
            row.Attempts.ShouldBe(1);
            row.Version.ShouldBeGreaterThan(0);
            (await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == blocked)).Status.ShouldBe(TaskState.Todo, "a blocked task is not started");
        }
        var turn = (await _server.GetJsonAsync($"/api/v1/agents/{agent}/turns"))[0]!;
        var events = (await _server.GetJsonAsync($"/api/v1/tasks/{task}/events")).AsArray()
            .Where(e => e!["actor"]!["name"]!.GetValue<string>() == "dispatcher").ToList();
        events.Select(e => e!["kind"]!.GetValue<string>()).ShouldBe(["status_changed", "turn_started"]);
        events[0]!["from_status"]!.GetValue<string>().ShouldBe("todo");
        events[0]!["to_status"]!.GetValue<string>().ShouldBe("in_progress");
        events[0]!["actor"]!["type"]!.GetValue<string>().ShouldBe("system");
        events[0]!["data"]!["turn_id"]!.GetValue<Guid>().ShouldBe(turn["id"]!.GetValue<Guid>());
        events[1]!["data"]!["attempt"]!.GetValue<int>().ShouldBe(1);
        events[1]!["data"]!["reasons"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldBe(["task_ready"]);
        events[1]!["data"]!["agent_id"]!.GetValue<Guid>().ShouldBe(agent);
        events[1]!["data"]!["turn_id"]!.GetValue<Guid>().ShouldBe(turn["id"]!.GetValue<Guid>());
        events[1]!["data"]!["node"]!.GetValue<string>().ShouldBe(turn["node"]!.GetValue<string>());
        await using (var db = Db(_server))
        {
            var requests = await db.DispatchRequests.AsNoTracking().Where(r => r.AgentId == agent).OrderBy(r => r.Id).Select(r => r.Id).ToListAsync();
            events[1]!["data"]!["request_ids"]!.AsArray().Select(r => r!.GetValue<long>()).ShouldBe(requests);
            (await db.Turns.AsNoTracking().SingleAsync(t => t.AgentId == agent)).TaskId.ShouldBe(task);
        }
        events[0]!["id"]!.GetValue<long>().ShouldBeLessThan(events[1]!["id"]!.GetValue<long>());
        await File.WriteAllTextAsync(gate, "go");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.AgentId == agent && t.State == TurnState.Succeeded), "the turn to end");
    }

    [Fact]
    public async Task A_failing_agent_is_retried_then_its_task_fails_with_the_reason()
    {
        var team = await CreateTeamAsync(_server);
        var agent = await AddFakeAgentAsync(_server, team, "eng", Script(Step("print", new { text = "boom" }), Step("exit", new { code = 3 })));
        var task = await AddReadyTaskAsync(_server, team, agent, "Design notification schema");
        await WaitUntilAsync(_server, db => db.Tasks.AnyAsync(t => t.Id == task && t.Status == TaskState.Failed), "the task to fail");

        await using var db = Db(_server);
        var turns = await db.Turns.Where(t => t.AgentId == agent).OrderBy(t => t.StartedAt).ToListAsync();
        turns.Select(t => t.Attempt).ShouldBe([1, 2, 3]);
        turns.ShouldAllBe(t => t.State == TurnState.Failed && t.ExitCode == 3);
        (await db.DispatchRequests.SingleAsync()).State.ShouldBe(DispatchState.Dead);
        var failed = await db.Tasks.SingleAsync(t => t.Id == task);
        failed.FailureReason!.ShouldContain("exited with code 3");
        var kinds = await db.TaskEvents.Where(e => e.TaskId == task).OrderBy(e => e.Id).Select(e => e.Kind).ToListAsync();
        kinds.Count(k => k == "turn_started").ShouldBe(3);
        kinds.Count(k => k == "turn_ended").ShouldBe(3);
    }

    [Fact]
    public async Task Messages_sent_here_claim_their_turns_as_they_are_written_and_each_runs_once()
    {
        var team = await CreateTeamAsync(_server);
        var agent = await AddFakeAgentAsync(_server, team, "eng", Script(Step("print", new { text = "ok" })));
        var claimer = _server.Services.GetRequiredService<Entourage.Server.Dispatch.Claimer>();
        var slots = _server.Services.GetRequiredService<Entourage.Server.Dispatch.TurnSlots>();
        for (var i = 1; i <= 3; i++)
        {
            await SendMessageAsync(_server, team, agent, $"message {i}");
            var done = i;
            await WaitUntilAsync(_server, async db => await db.Turns.CountAsync(t => t.AgentId == agent && t.State == TurnState.Succeeded) == done, $"turn {i} to succeed");
        }

        await using var db = Db(_server);
        (await db.Turns.CountAsync(t => t.AgentId == agent)).ShouldBe(3);
        (await db.DispatchRequests.CountAsync(d => d.AgentId == agent && d.State == DispatchState.Done)).ShouldBe(3);
        // Each message to the idle agent claimed its turn in the message's own transaction (the request inserted
        // claimed on PostgreSQL), so the dispatcher never had anything to claim for it, on a hint or otherwise.
        slots.WriteClaims.ShouldBe(3);
        claimer.ExpectedClaims.ShouldBe(0);
        var turns = await db.Turns.Where(t => t.AgentId == agent).OrderBy(t => t.StartedAt).ToListAsync();
        turns.ShouldAllBe(t => t.Attempt == 1 && t.TaskId == null);
    }

    [Fact]
    public async Task Each_dependent_made_ready_by_a_status_change_starts_once_with_its_task_moved_once()
    {
        var team = await CreateTeamAsync(_server);
        var x = await AddFakeAgentAsync(_server, team, "eng-x", Script(Step("print", new { text = "ok" })));
        var dependents = new List<long>();
        for (var i = 1; i <= 3; i++)
        {
            // An agent per dependent: these turns leave their task in progress, and an engineer starts one task at a time.
            var y = await AddFakeAgentAsync(_server, team, $"eng-y{i}", Script(Step("print", new { text = "ok" })));
            var upstream = await AddReadyTaskAsync(_server, team, x, $"upstream {i}");
            await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.TaskId == upstream && t.State == TurnState.Succeeded), $"upstream {i}'s turn");
            var dependent = await AddTaskAsync(_server, team, y, $"dependent {i}", upstream);
            dependents.Add(dependent);
            await _server.PostJsonAsync($"/api/v1/tasks/{upstream}/status", """{"status": "done"}""");
            await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.TaskId == dependent && t.State == TurnState.Succeeded), $"dependent {i}'s turn");
        }

        await using var db = Db(_server);
        foreach (var dependent in dependents)
        {
            (await db.Turns.CountAsync(t => t.TaskId == dependent)).ShouldBe(1);
            (await db.Tasks.SingleAsync(t => t.Id == dependent)).Status.ShouldBe(TaskState.InProgress);
            var kinds = await db.TaskEvents.Where(e => e.TaskId == dependent).Select(e => e.Kind).ToListAsync();
            kinds.Count(k => k == "turn_started").ShouldBe(1);
            kinds.Count(k => k == "status_changed").ShouldBe(1);
        }
        // Each dependent's turn was claimed in its status change's own transaction, on both stores; the hint the
        // change left for the dispatcher was dropped with it, so the dispatcher claimed none of them.
        _server.Services.GetRequiredService<Entourage.Server.Dispatch.TurnSlots>().WriteClaims.ShouldBe(3);
        _server.Services.GetRequiredService<Entourage.Server.Dispatch.Claimer>().ExpectedClaims.ShouldBe(0);
    }

    [Fact]
    public async Task Work_for_an_agent_whose_cli_is_missing_stays_pending_with_no_turn()
    {
        var team = await CreateTeamAsync(_server);
        var body = new JsonObject { ["name"] = "ghost", ["adapter"] = "command", ["config"] = new JsonObject { ["command"] = "/nonexistent/entourage-test-cli" } };
        var ghost = (await _server.PostJsonAsync($"/api/v1/teams/{team}/agents", body.ToJsonString()))["id"]!.GetValue<Guid>();
        var witness = await AddFakeAgentAsync(_server, team, "witness", Script(Step("print", new { text = "ok" })));

        await SendMessageAsync(_server, team, ghost, "are you there?");
        // The witness's message is sent after, so any dispatcher pass that starts its turn has seen the ghost's too.
        await SendMessageAsync(_server, team, witness, "and you?");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.AgentId == witness && t.State == TurnState.Succeeded), "the witness's turn");
        var slots = _server.Services.GetRequiredService<Entourage.Server.Dispatch.TurnSlots>();
        // On PostgreSQL the ghost's message claimed its turn in its own statement, which also said what the ghost
        // runs as: found missing here, the claim was given back at once. SQLite reads that before claiming.
        slots.WriteClaimsGivenBack.ShouldBe(store == Store.Postgres ? 1 : 0);

        // A task for it too: no hint for a created task, and the candidates query skips an agent with no CLI here.
        var ghostTask = await AddReadyTaskAsync(_server, team, ghost, "haunt the build");
        await SendMessageAsync(_server, team, witness, "still there?");
        await WaitUntilAsync(_server, async db => await db.Turns.CountAsync(t => t.AgentId == witness && t.State == TurnState.Succeeded) == 2, "the witness's second turn");
        slots.WriteClaimsGivenBack.ShouldBe(store == Store.Postgres ? 1 : 0);

        // And a dependent made ready by a status change, which read what the ghost runs as: its CLI is found missing
        // before any claim (a task claim is not given back like a message claim), so nothing to undo.
        var upstream = await AddReadyTaskAsync(_server, team, witness, "lay the ground");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.TaskId == upstream && t.State == TurnState.Succeeded), "the upstream task's turn");
        var ghostDependent = await AddTaskAsync(_server, team, ghost, "haunt what was built", upstream);
        await _server.PostJsonAsync($"/api/v1/tasks/{upstream}/status", """{"status": "done"}""");
        await SendMessageAsync(_server, team, witness, "done?");
        await WaitUntilAsync(_server, async db => await db.Turns.CountAsync(t => t.AgentId == witness && t.State == TurnState.Succeeded) == 4, "the witness's fourth turn");
        slots.WriteClaimsGivenBack.ShouldBe(store == Store.Postgres ? 1 : 0);

        await using var db = Db(_server);
        var ghostTurns = await db.Turns.Where(t => t.AgentId == ghost).ToListAsync();
        string.Join("; ", ghostTurns.Select(t => $"task {t.TaskId} {t.State}: {t.Error}")).ShouldBe("", "the ghost should have no turn");
        var requests = await db.DispatchRequests.Where(d => d.AgentId == ghost).ToListAsync();
        requests.Count.ShouldBe(3);
        requests.ShouldAllBe(r => r.State == DispatchState.Pending && r.Attempts == 0 && r.TurnId == null);
        (await db.Tasks.SingleAsync(t => t.Id == ghostTask)).Status.ShouldBe(TaskState.Todo);
        (await db.Tasks.SingleAsync(t => t.Id == ghostDependent)).Status.ShouldBe(TaskState.Todo);
        (await _server.GetJsonAsync($"/api/v1/agents/{ghost}"))["status"]!.GetValue<string>().ShouldBe("offline");
    }

    [Fact]
    public async Task The_log_streams_live_as_server_sent_events_and_ends_with_the_state()
    {
        var team = await CreateTeamAsync(_server);
        var gate = Path.Combine(_server.DataDirectory, "gate");
        var agent = await AddFakeAgentAsync(_server, team, "eng", Script(Step("print", new { text = "line one" }), Step("wait_file", new { path = gate }), Step("print", new { text = "line two" })));
        await SendMessageAsync(_server, team, agent, "go");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.AgentId == agent && t.Log.Contains("line one")), "the first line");
        var turnId = (await _server.GetJsonAsync($"/api/v1/agents/{agent}/turns"))[0]!["id"]!.GetValue<Guid>();

        using var response = await _server.Http.GetAsync($"/api/v1/turns/{turnId}/log/stream", HttpCompletionOption.ResponseHeadersRead);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var seen = new System.Text.StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            seen.AppendLine(line);
            if (line.Contains("line one", StringComparison.Ordinal) && !File.Exists(gate)) await File.WriteAllTextAsync(gate, "go");
            if (line.StartsWith("event: end", StringComparison.Ordinal))
            {
                seen.AppendLine(await reader.ReadLineAsync());
                break;
            }
        }
        var text = seen.ToString();
        text.ShouldContain("line two");
        text.IndexOf("line one", StringComparison.Ordinal).ShouldBeLessThan(text.IndexOf("line two", StringComparison.Ordinal));
        text.ShouldContain("\"state\":\"succeeded\"");
    }
}

public sealed class DispatcherContractSqlite() : DispatcherContract(Store.Sqlite);

public sealed class DispatcherContractPostgres() : DispatcherContract(Store.Postgres);
