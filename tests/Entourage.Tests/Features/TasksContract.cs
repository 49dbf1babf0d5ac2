using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Tests.Features;

/// <summary>The task DAG and its state machine, written once and run per store.</summary>
public abstract class TasksContract(Store store) : IAsyncLifetime
{
    private TestServer _s = null!;

    public async ValueTask InitializeAsync() => _s = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task Transitions_follow_the_state_machine_and_name_the_allowed_ones()
    {
        var t = await _s.TeamAsync();
        var id = await _s.TaskAsync(t.Id, $$"""{"title": "A", "assignee_id": "{{t.Backend}}"}""");

        var illegal = (await _s.StatusAsync(id, "done")).ShouldBe(HttpStatusCode.Conflict).Json;
        illegal["detail"].Str().ShouldBe($"Task {id} is todo and cannot move to done. Allowed next states: in_progress, cancelled.");
        illegal["allowed"]!.AsArray().Select(x => x.Str()).ShouldBe(["in_progress", "cancelled"]);
        // A refused move to a terminal state changes nothing: the task's wake-up, which a real one retires in the
        // same batch as the task's read, is still pending.
        (await _s.WithDbAsync(db => db.DispatchRequests.Where(r => r.TaskId == id).Select(r => r.State).ToListAsync())).ShouldBe([DispatchState.Pending]);

        (await _s.StatusAsync(id, "in_progress")).ShouldBe(HttpStatusCode.OK).Json["started_at"].ShouldNotBeNull();
        (await _s.StatusAsync(id, "in_progress")).ShouldBe(HttpStatusCode.OK); // idempotent: no second event
        (await _s.StatusAsync(id, "in_review")).ShouldBe(HttpStatusCode.OK);
        (await _s.StatusAsync(id, "in_progress")).ShouldBe(HttpStatusCode.OK); // changes requested
        (await _s.StatusAsync(id, "in_review")).ShouldBe(HttpStatusCode.OK);
        var done = (await _s.StatusAsync(id, "done")).ShouldBe(HttpStatusCode.OK).Json;
        done["completed_at"].ShouldNotBeNull();
        (await _s.StatusAsync(id, "todo")).ShouldBe(HttpStatusCode.Conflict).Json["detail"].Str().ShouldContain("none (it is final)");
        (await _s.StatusAsync(id, "finished")).ShouldBe(HttpStatusCode.UnprocessableEntity).Json["errors"]!["status"]![0].Str()
            .ShouldContain("todo, in_progress, in_review, done, cancelled, failed");

        var events = (await _s.GetAsync($"/api/v1/tasks/{id}/events")).Json.AsArray();
        events.Where(e => e!["kind"].Str() == "status_changed").Select(e => e!["to_status"].Str())
            .ShouldBe(["in_progress", "in_review", "in_progress", "in_review", "done"]);
        events.Select(e => e!["id"]!.GetValue<long>()).ShouldBeInOrder();
    }

    [Fact]
    public async Task A_failed_dependency_blocks_its_dependents_until_retried_and_done()
    {
        var t = await _s.TeamAsync();
        var a = await _s.TaskAsync(t.Id, $$"""{"title": "A", "assignee_id": "{{t.Backend}}"}""");
        var b = await _s.TaskAsync(t.Id, $$"""{"title": "B", "assignee_id": "eng-frontend", "depends_on": [{{a}}]}""");
        var c = await _s.TaskAsync(t.Id, $$"""{"title": "C", "depends_on": ["{{b}}"], "parent_id": {{a}}}""");

        (await _s.StatusAsync(a, "in_progress")).ShouldBe(HttpStatusCode.OK);
        (await _s.StatusAsync(a, "failed", "tests do not compile")).Json["failure_reason"].Str().ShouldBe("tests do not compile");
        var blocked = (await _s.GetAsync($"/api/v1/tasks/{b}")).Json;
        blocked["status"].Str().ShouldBe("todo");
        blocked["blocked_by_failed"].Ids().ShouldBe([a]);
        blocked["ready"]!.GetValue<bool>().ShouldBeFalse();
        var refused = (await _s.StatusAsync(b, "in_progress")).ShouldBe(HttpStatusCode.Conflict).Json;
        refused["detail"].Str().ShouldContain($"task {b} is blocked by task {a} (failed)");
        refused["detail"].Str().ShouldContain("retry it");

        // Nothing can move B or C any more: the wait says so at once instead of sleeping to its timeout.
        var wait = (await _s.PostAsync("/api/v1/tasks/wait", $$"""{"task_ids": [{{a}}, {{b}}, {{c}}], "timeout_seconds": 3600}""")).ShouldBe(HttpStatusCode.OK).Json;
        wait["timed_out"]!.GetValue<bool>().ShouldBeFalse();
        wait["completed"]!.GetValue<bool>().ShouldBeFalse();
        wait["never_start"].Ids().ShouldBe([b, c]);

        // The dispatcher took the first work item; a retried task is ready again and gets a new one.
        await _s.WithDbAsync(db => db.DispatchRequests.ExecuteUpdateAsync(x => x.SetProperty(r => r.State, DispatchState.Done)));
        (await _s.StatusAsync(a, "todo")).ShouldBe(HttpStatusCode.OK).Json["failure_reason"].ShouldBeNull();
        (await _s.DispatchAsync()).Count(d => d.Task == a && d.Reason == DispatchReason.TaskReady).ShouldBe(2); // created, retried
        await _s.FinishAsync(a);
        (await _s.GetAsync($"/api/v1/tasks/{b}")).Json["ready"]!.GetValue<bool>().ShouldBeTrue();
        (await _s.DispatchAsync()).ShouldContain((t.Frontend, DispatchReason.TaskReady, (long?)b, b.ToString()));
        (await _s.GetAsync($"/api/v1/tasks/{b}/events")).Json.AsArray().Select(e => e!["kind"].Str())
            .ShouldBe(["created", "dependency_added", "assigned", "dependency_failed", "unblocked"]);

        // C has a parent and no assignee: when B is done, the manager is asked to assign it.
        await _s.FinishAsync(b);
        (await _s.DispatchAsync()).ShouldContain((t.Manager, DispatchReason.TaskReady, (long?)c, c.ToString()));
    }

    [Fact]
    public async Task A_batch_wires_items_by_index_in_any_direction_and_dispatches_only_ready_tasks()
    {
        var t = await _s.TeamAsync();
        var existing = await _s.TaskAsync(t.Id, """{"title": "existing"}""");
        await _s.FinishAsync(existing);
        var tasks = (await _s.PostAsync($"/api/v1/teams/{t.Id}/tasks/batch", $$"""
            {"tasks": [
              {"title": "tests", "assignee_id": "{{t.Backend}}", "depends_on_indices": [1, 2], "task_type": "test"},
              {"title": "api", "assignee_id": "{{t.Backend}}", "depends_on": ["{{existing}}"], "priority": "critical"},
              {"title": "ui", "assignee_id": "{{t.Frontend}}", "depends_on_indices": [1]}
            ]}
            """)).ShouldBe(HttpStatusCode.Created).Json["tasks"]!.AsArray();
        var ids = tasks.Select(x => x!["id"]!.GetValue<long>()).ToList();
        tasks[0]!["depends_on"].Ids().ShouldBe([ids[1], ids[2]]);
        tasks[0]!["task_type"].Str().ShouldBe("test");
        tasks[1]!["dependents"].Ids().ShouldBe([ids[0], ids[2]]);
        tasks.Select(x => x!["ready"]!.GetValue<bool>()).ShouldBe([false, true, false]);
        (await _s.DispatchAsync()).Where(d => d.Reason == DispatchReason.TaskReady && d.Task != existing)
            .ShouldBe([(t.Backend, DispatchReason.TaskReady, (long?)ids[1], ids[1].ToString())]);

        await _s.FinishAsync(ids[1]);
        (await _s.DispatchAsync()).ShouldContain((t.Frontend, DispatchReason.TaskReady, (long?)ids[2], ids[2].ToString()));
        (await _s.GetAsync($"/api/v1/tasks/{ids[0]}")).Json["blocked_by"].Ids().ShouldBe([ids[2]]);
    }

    [Fact]
    public async Task A_bad_batch_names_every_bad_item_and_creates_nothing()
    {
        var t = await _s.TeamAsync();
        var other = await _s.TeamAsync("other");
        var foreign = await _s.TaskAsync(other.Id, """{"title": "theirs"}""");
        var before = await _s.FingerprintAsync();
        var problem = (await _s.PostAsync($"/api/v1/teams/{t.Id}/tasks/batch", $$"""
            {"tasks": [
              {"title": "ok"},
              {"title": "unknown assignee", "assignee_id": "{{other.Backend}}"},
              {"title": "foreign dependency", "depends_on": [{{foreign}}]},
              {"title": "unknown dependency", "depends_on": [999999]},
              {"title": "self edge", "depends_on_indices": [4]},
              {"title": "cycle a", "depends_on_indices": [6]},
              {"title": "cycle b", "depends_on_indices": [5]},
              {"title": "bad enums", "priority": "urgent", "task_type": "epic"},
              {"description": "no title"},
              {"title": "out of range", "depends_on_indices": [42]}
            ]}
            """)).ShouldBe(HttpStatusCode.UnprocessableEntity);
        problem.ContentType.ShouldBe("application/problem+json");
        var errors = problem.Json["errors"]!.AsObject().Select(kv => kv.Key).ToList();
        errors.ShouldBe([
            "tasks[1].assignee_id", "tasks[2].depends_on", "tasks[3].depends_on", "tasks[4].depends_on_indices",
            "tasks[7].priority", "tasks[7].task_type", "tasks[8].title", "tasks[9].depends_on_indices",
            "tasks[5].depends_on_indices", "tasks[6].depends_on_indices"], ignoreOrder: true);
        problem.Json["detail"].Str().ShouldStartWith("No task was created");
        (await _s.FingerprintAsync()).ShouldBe(before);

        (await _s.PostAsync($"/api/v1/teams/{t.Id}/tasks/batch", """{"tasks": []}""")).ShouldBe(HttpStatusCode.UnprocessableEntity);
        var tooMany = "{\"tasks\": [" + string.Join(",", Enumerable.Repeat("{\"title\": \"x\"}", 501)) + "]}";
        (await _s.PostAsync($"/api/v1/teams/{t.Id}/tasks/batch", tooMany)).ShouldBe(HttpStatusCode.UnprocessableEntity).Json["detail"].Str().ShouldContain("500");
        (await _s.FingerprintAsync()).ShouldBe(before);
    }

    [Fact]
    public async Task Assigning_a_ready_task_dispatches_it_and_lands_in_the_timeline()
    {
        var t = await _s.TeamAsync();
        var parent = await _s.TaskAsync(t.Id, """{"title": "feature"}""");
        var sub = await _s.TaskAsync(t.Id, $$"""{"title": "sub", "parent_id": {{parent}}}""");
        (await _s.DispatchAsync()).Count(d => d.Task == sub).ShouldBe(0); // a sub-task's creator already knows it

        var assigned = (await _s.PostAsync($"/api/v1/tasks/{sub}/assign", $$"""{"assignee_id": "{{t.Backend}}"}""")).ShouldBe(HttpStatusCode.OK).Json;
        assigned["assignee_name"].Str().ShouldBe("eng-backend");
        assigned["ready"]!.GetValue<bool>().ShouldBeTrue();
        (await _s.DispatchAsync()).ShouldContain((t.Backend, DispatchReason.TaskReady, (long?)sub, sub.ToString()));
        (await _s.GetAsync($"/api/v1/teams/{t.Id}/agents")).Json.AsArray().Single(a => a!["name"].Str() == "eng-backend")!["active_task_count"]!.GetValue<int>().ShouldBe(1);

        (await _s.PostAsync($"/api/v1/tasks/{sub}/assign", """{"assignee_id": "nobody"}""")).ShouldBe(HttpStatusCode.UnprocessableEntity).Json["errors"]!["assignee_id"].ShouldNotBeNull();
        (await _s.PostAsync($"/api/v1/tasks/{sub}/assign", """{"assignee_id": null}""")).ShouldBe(HttpStatusCode.OK).Json["assignee_id"].ShouldBeNull();
        (await _s.GetAsync($"/api/v1/tasks/{sub}/events")).Json.AsArray().Select(e => e!["kind"].Str()).ShouldBe(["created", "assigned", "unassigned"]);

        await _s.FinishAsync(parent);
        (await _s.PostAsync($"/api/v1/tasks/{parent}/assign", $$"""{"assignee_id": "{{t.Backend}}"}""")).ShouldBe(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Patching_dependencies_rejects_cycles_and_self_edges()
    {
        var t = await _s.TeamAsync();
        var a = await _s.TaskAsync(t.Id, """{"title": "A"}""");
        var b = await _s.TaskAsync(t.Id, $$"""{"title": "B", "depends_on": [{{a}}], "assignee_id": "eng-backend"}""");
        var c = await _s.TaskAsync(t.Id, $$"""{"title": "C", "depends_on": [{{b}}]}""");

        (await _s.PatchAsync($"/api/v1/tasks/{a}", $$"""{"depends_on": [{{c}}]}""")).ShouldBe(HttpStatusCode.UnprocessableEntity).Json["detail"].Str().ShouldContain("cycle");
        (await _s.PatchAsync($"/api/v1/tasks/{a}", $$"""{"depends_on": [{{a}}]}""")).ShouldBe(HttpStatusCode.UnprocessableEntity).Json["detail"].Str().ShouldContain("itself");
        (await _s.PatchAsync($"/api/v1/tasks/{a}", $$"""{"parent_id": {{a}}}""")).ShouldBe(HttpStatusCode.UnprocessableEntity);

        var edited = (await _s.PatchAsync($"/api/v1/tasks/{b}", """{"depends_on": [], "title": "B2", "priority": "low"}""")).ShouldBe(HttpStatusCode.OK).Json;
        edited["title"].Str().ShouldBe("B2");
        edited["ready"]!.GetValue<bool>().ShouldBeTrue();
        (await _s.DispatchAsync()).ShouldContain((t.Backend, DispatchReason.TaskReady, (long?)b, b.ToString()));
        (await _s.GetAsync($"/api/v1/tasks/{b}/events")).Json.AsArray().Select(e => e!["kind"].Str())
            .ShouldBe(["created", "dependency_added", "assigned", "updated", "dependency_removed"]);
    }

    [Fact]
    public async Task Patching_parent_id_null_takes_the_task_out_of_its_parent_and_absent_leaves_it()
    {
        var t = await _s.TeamAsync();
        var p = await _s.TaskAsync(t.Id, """{"title": "P"}""");
        var c = await _s.TaskAsync(t.Id, $$"""{"title": "C", "parent_id": {{p}}}""");

        (await _s.PatchAsync($"/api/v1/tasks/{c}", """{"title": "C2"}""")).ShouldBe(HttpStatusCode.OK).Json["parent_id"]!.GetValue<long>().ShouldBe(p);
        (await _s.PatchAsync($"/api/v1/tasks/{c}", """{"parent_id": null}""")).ShouldBe(HttpStatusCode.OK).Json["parent_id"].ShouldBeNull();
        (await _s.GetAsync($"/api/v1/tasks/{c}")).Json["parent_id"].ShouldBeNull();
        (await _s.GetAsync($"/api/v1/tasks/{c}/events")).Json.AsArray().Last()!["data"]!["fields"]!.AsArray().Select(f => f.Str()).ShouldBe(["parent_id"]);
        (await _s.PatchAsync($"/api/v1/tasks/{c}", $$"""{"parent_id": {{p}}}""")).ShouldBe(HttpStatusCode.OK).Json["parent_id"]!.GetValue<long>().ShouldBe(p);
    }

    [Fact]
    public async Task Lists_filter_by_status_assignee_parent_and_readiness()
    {
        var t = await _s.TeamAsync();
        var p = await _s.TaskAsync(t.Id, $$"""{"title": "P", "assignee_id": "{{t.Backend}}"}""");
        var s1 = await _s.TaskAsync(t.Id, $$"""{"title": "S1", "parent_id": {{p}}, "assignee_id": "eng-frontend"}""");
        var s2 = await _s.TaskAsync(t.Id, $$"""{"title": "S2", "parent_id": {{p}}, "depends_on": [{{s1}}]}""");
        (await _s.StatusAsync(p, "in_progress")).ShouldBe(HttpStatusCode.OK);

        async Task<List<long>> Q(string q) => (await _s.GetAsync($"/api/v1/teams/{t.Id}/tasks?{q}")).ShouldBe(HttpStatusCode.OK).Json.AsArray().Select(x => x!["id"]!.GetValue<long>()).ToList();
        (await Q("")).ShouldBe([p, s1, s2]);
        (await Q("status=in_progress")).ShouldBe([p]);
        (await Q("status=todo,in_progress")).ShouldBe([p, s1, s2]);
        (await Q($"assignee={t.Frontend}")).ShouldBe([s1]);
        (await Q("assignee=eng-backend")).ShouldBe([p]);
        (await Q("assignee=none")).ShouldBe([s2]);
        (await Q($"parent={p}")).ShouldBe([s1, s2]);
        (await Q("parent=none")).ShouldBe([p]);
        (await Q("ready=true")).ShouldBe([s1]);
        (await _s.GetAsync($"/api/v1/teams/{t.Id}/tasks?status=doing")).ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await _s.GetAsync($"/api/v1/teams/platform/tasks")).ShouldBe(HttpStatusCode.OK); // slug works too
    }

    [Fact]
    public async Task Lists_page_by_after_with_a_next_link_and_filter_before_paging()
    {
        var t = await _s.TeamAsync();
        var ids = new List<long>();
        for (var i = 0; i < 5; i++) ids.Add(await _s.TaskAsync(t.Id, $$"""{"title": "T{{i}}"{{(i % 2 == 1 ? ", \"assignee_id\": \"eng-backend\"" : "")}}}"""));

        async Task<(List<long> Ids, string? Next)> Page(string url)
        {
            using var r = await _s.Http.GetAsync(url);
            r.StatusCode.ShouldBe(HttpStatusCode.OK);
            var page = (await r.Content.ReadFromJsonAsync<JsonNode>())!.AsArray().Select(x => x!["id"]!.GetValue<long>()).ToList();
            var link = r.Headers.TryGetValues("Link", out var v) ? v.Single() : null;
            return (page, link is null ? null : link[(link.IndexOf('<') + 1)..link.IndexOf('>')]);
        }

        var seen = new List<long>();
        var (first, next) = await Page($"/api/v1/teams/{t.Id}/tasks?limit=2");
        seen.AddRange(first);
        while (next is not null)
        {
            next.ShouldContain("limit=2");
            (var more, next) = await Page(next);
            more.Count.ShouldBeLessThanOrEqualTo(2);
            seen.AddRange(more);
        }
        seen.ShouldBe(ids);
        var rest = await Page($"/api/v1/teams/{t.Id}/tasks?after={ids[2]}");
        rest.Ids.ShouldBe([ids[3], ids[4]]);
        rest.Next.ShouldBeNull();
        // The filter applies before the page: the first page of ready tasks is not cut short by the todo ones before them.
        (await Page($"/api/v1/teams/{t.Id}/tasks?ready=true&limit=1")).Ids.ShouldBe([ids[1]]);
        (await Page($"/api/v1/teams/{t.Id}/tasks?ready=false&after={ids[0]}")).Ids.ShouldBe([ids[2], ids[4]]);
    }

    [Fact]
    public async Task A_settled_task_wait_wakes_its_agent_once()
    {
        var t = await _s.TeamAsync();
        var a = await _s.TaskAsync(t.Id, """{"title": "A"}""");
        var b = await _s.TaskAsync(t.Id, """{"title": "B"}""");
        var waitId = await _s.OpenWaitAsync(t.Id, t.Manager, a, b);
        await _s.FinishAsync(a);
        (await _s.DispatchAsync()).Count(d => d.Reason == DispatchReason.WaitComplete).ShouldBe(0);
        (await _s.StatusAsync(b, "cancelled")).ShouldBe(HttpStatusCode.OK);
        (await _s.DispatchAsync()).Where(d => d.Reason == DispatchReason.WaitComplete).ShouldBe([(t.Manager, DispatchReason.WaitComplete, (long?)null, waitId.ToString())]);
        (await _s.WithDbAsync(db => db.TaskWaits.AsNoTracking().SingleAsync(w => w.Id == waitId))).CompletedAt.ShouldNotBeNull();
    }

    /// <summary>
    /// A status change skips the waits' own reads when each open wait still has a task that is running or that the
    /// change makes ready (DagEffects.Settled.MaySettleAWait). Waits that do settle must still be seen, whatever
    /// else runs in the team: the last task finishing while unrelated ones run, a task left that can never start.
    /// </summary>
    [Fact]
    public async Task Open_waits_settle_exactly_when_their_tasks_do_whatever_else_the_team_runs()
    {
        var t = await _s.TeamAsync();
        var a = await _s.TaskAsync(t.Id, """{"title": "A"}""");
        var b = await _s.TaskAsync(t.Id, """{"title": "B"}""");
        var unrelated = await _s.TaskAsync(t.Id, """{"title": "Unrelated"}""");
        var blocker = await _s.TaskAsync(t.Id, """{"title": "Blocker"}""");
        var afterA = await _s.TaskAsync(t.Id, $$"""{"title": "After A", "depends_on": [{{a}}]}""");
        var stuck = await _s.TaskAsync(t.Id, $$"""{"title": "Stuck", "depends_on": [{{blocker}}]}""");
        foreach (var id in new[] { a, b, unrelated, blocker }) (await _s.StatusAsync(id, "in_progress")).ShouldBe(HttpStatusCode.OK);
        (await _s.StatusAsync(blocker, "failed", "broken")).ShouldBe(HttpStatusCode.OK);
        var onB = await _s.OpenWaitAsync(t.Id, t.Manager, a, b);
        var onAfterA = await _s.OpenWaitAsync(t.Id, t.Manager, a, afterA);
        var onStuck = await _s.OpenWaitAsync(t.Id, t.Manager, a, stuck);

        // A done: B still runs, After A becomes ready; Stuck can never start, so that wait settles now.
        (await _s.StatusAsync(a, "done")).ShouldBe(HttpStatusCode.OK);
        (await SettledWaitsAsync()).ShouldBe([onStuck]);
        // B done, with Unrelated still running: the wait on A and B settles; After A has not started.
        (await _s.StatusAsync(b, "done")).ShouldBe(HttpStatusCode.OK);
        (await SettledWaitsAsync()).ShouldBe([onB, onStuck], ignoreOrder: true);
        (await _s.StatusAsync(afterA, "cancelled")).ShouldBe(HttpStatusCode.OK);
        (await SettledWaitsAsync()).ShouldBe([onB, onAfterA, onStuck], ignoreOrder: true);
        // Each settled wait woke the manager once.
        (await _s.DispatchAsync()).Where(d => d.Reason == DispatchReason.WaitComplete).Select(d => d.Ref)
            .ShouldBe([onStuck.ToString(), onB.ToString(), onAfterA.ToString()]);

        Task<List<long>> SettledWaitsAsync() =>
            _s.WithDbAsync(db => db.TaskWaits.Where(w => w.CompletedAt != null).OrderBy(w => w.Id).Select(w => w.Id).ToListAsync());
    }

    /// <summary>
    /// A dependent this change does not make ready is no proof that a wait stays open: here another dependency of it
    /// failed, so it can never start, and the wait on it settles with this change, while another task runs.
    /// </summary>
    [Fact]
    public async Task A_wait_on_a_dependent_another_failed_dependency_blocks_settles_when_its_last_task_finishes()
    {
        var t = await _s.TeamAsync();
        var a = await _s.TaskAsync(t.Id, """{"title": "A"}""");
        var blocker = await _s.TaskAsync(t.Id, """{"title": "Blocker"}""");
        var running = await _s.TaskAsync(t.Id, """{"title": "Running"}""");
        var dependent = await _s.TaskAsync(t.Id, $$"""{"title": "Dependent", "depends_on": [{{a}}, {{blocker}}]}""");
        foreach (var id in new[] { a, blocker, running }) (await _s.StatusAsync(id, "in_progress")).ShouldBe(HttpStatusCode.OK);
        (await _s.StatusAsync(blocker, "failed", "broken")).ShouldBe(HttpStatusCode.OK);
        var wait = await _s.OpenWaitAsync(t.Id, t.Manager, a, dependent);

        (await _s.StatusAsync(a, "done")).ShouldBe(HttpStatusCode.OK);
        (await _s.WithDbAsync(db => db.TaskWaits.AsNoTracking().SingleAsync(w => w.Id == wait))).CompletedAt.ShouldNotBeNull();
        (await _s.DispatchAsync()).Where(d => d.Reason == DispatchReason.WaitComplete).Select(d => d.Ref).ShouldBe([wait.ToString()]);
    }
}

public sealed class TasksContractSqlite() : TasksContract(Store.Sqlite);

public sealed class TasksContractPostgres() : TasksContract(Store.Postgres);
