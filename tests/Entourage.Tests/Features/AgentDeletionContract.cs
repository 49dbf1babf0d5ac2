using System.Net;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Tests.Features;

/// <summary>
/// Deleting an idle agent leaves none of its work stranded: unfinished tasks lose the assignee, a task in progress
/// returns to todo, ready ones wake the manager to assign them, a task in review stays there, its pending work
/// items die; all with timeline entries. A busy agent is still refused.
/// </summary>
public abstract class AgentDeletionContract(Store store) : IAsyncLifetime
{
    private TestServer _s = null!;

    public async ValueTask InitializeAsync() => _s = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task Deleting_an_agent_returns_its_unfinished_tasks_to_the_manager()
    {
        var t = await _s.TeamAsync();
        var started = await _s.TaskAsync(t.Id, $$"""{"title": "started", "assignee_id": "{{t.Backend}}"}""");
        (await _s.StatusAsync(started, "in_progress")).ShouldBe(HttpStatusCode.OK);
        var ready = await _s.TaskAsync(t.Id, $$"""{"title": "ready", "assignee_id": "{{t.Backend}}"}""");
        var blocker = await _s.TaskAsync(t.Id, """{"title": "blocker"}""");
        var blocked = await _s.TaskAsync(t.Id, $$"""{"title": "blocked", "assignee_id": "{{t.Backend}}", "depends_on": [{{blocker}}]}""");
        var reviewed = await _s.TaskAsync(t.Id, $$"""{"title": "reviewed", "assignee_id": "{{t.Backend}}"}""");
        var finished = await _s.TaskAsync(t.Id, $$"""{"title": "finished", "assignee_id": "{{t.Backend}}"}""");
        await _s.FinishAsync(finished);
        // In review as request_review leaves it (that needs a repository; only the state matters here).
        await _s.WithDbAsync(db => db.Tasks.Where(x => x.Id == reviewed).ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, TaskState.InReview)));
        (await _s.DispatchAsync()).ShouldContain(d => d.Agent == t.Backend && d.Task == ready);

        (await _s.DeleteAsync($"/api/v1/agents/{t.Backend}")).ShouldBe(HttpStatusCode.NoContent);

        var tasks = await _s.WithDbAsync(db => db.Tasks.AsNoTracking().Where(x => x.TeamId == t.Id).ToDictionaryAsync(x => x.Id));
        tasks.Values.ShouldAllBe(x => x.AssigneeId == null);
        tasks[started].Status.ShouldBe(TaskState.Todo);
        tasks[ready].Status.ShouldBe(TaskState.Todo);
        tasks[blocked].Status.ShouldBe(TaskState.Todo);
        tasks[reviewed].Status.ShouldBe(TaskState.InReview);
        tasks[finished].Status.ShouldBe(TaskState.Done);

        var requests = await _s.WithDbAsync(db => db.DispatchRequests.AsNoTracking().ToListAsync());
        requests.Where(r => r.AgentId == t.Backend).ShouldNotContain(r => r.State == DispatchState.Pending || r.State == DispatchState.Claimed,
            string.Join(", ", requests.Select(r => $"{r.AgentId}:{r.Reason}:{r.TaskId}:{r.State}")));
        requests.Single(r => r.AgentId == t.Backend && r.TaskId == ready).State.ShouldBe(DispatchState.Dead);
        // The ready tasks (the one in progress is ready again) go to the manager; a blocked one waits for its dependency
        // (the blocker, unassigned from the start, woke the manager when it was created).
        requests.Where(r => r.AgentId == t.Manager && r.Reason == DispatchReason.TaskReady && r.State == DispatchState.Pending)
            .Select(r => r.TaskId).ShouldBe([blocker, started, ready], ignoreOrder: true);

        var events = (await _s.GetAsync($"/api/v1/tasks/{started}/events")).Json.AsArray();
        events.ShouldContain(e => e!["kind"].Str() == "unassigned" && e["data"]!["reason"].Str() == "agent 'eng-backend' was deleted");
        var back = events.Last(e => e!["kind"].Str() == "status_changed")!;
        (back["from_status"].Str(), back["to_status"].Str()).ShouldBe(("in_progress", "todo"));
        back["data"]!["reason"].Str().ShouldBe("agent 'eng-backend' was deleted");
        foreach (var id in new[] { ready, blocked, reviewed })
            (await _s.GetAsync($"/api/v1/tasks/{id}/events")).Json.AsArray().Last()!["kind"].Str().ShouldBe("unassigned");
        (await _s.GetAsync($"/api/v1/tasks/{finished}/events")).Json.AsArray().ShouldNotContain(e => e!["kind"].Str() == "unassigned");

        // The manager can hand the work out again, and the new assignee is woken for it.
        (await _s.PostAsync($"/api/v1/tasks/{started}/assign", $$"""{"assignee_id": "{{t.Frontend}}"}""")).ShouldBe(HttpStatusCode.OK);
        (await _s.DispatchAsync()).ShouldContain(d => d.Agent == t.Frontend && d.Task == started && d.Reason == DispatchReason.TaskReady);
    }

    [Fact]
    public async Task A_busy_agent_is_not_deleted()
    {
        var t = await _s.TeamAsync();
        var task = await _s.TaskAsync(t.Id, $$"""{"title": "busy", "assignee_id": "{{t.Backend}}"}""");
        await _s.WithDbAsync(async db =>
        {
            db.Turns.Add(new Entourage.Server.Storage.Entities.Turn
            {
                Id = Guid.CreateVersion7(), AgentId = t.Backend, TeamId = t.Id, TaskId = task, State = TurnState.Running,
                StartedAt = DateTime.UtcNow, HeartbeatAt = DateTime.UtcNow, LeaseUntil = DateTime.UtcNow.AddHours(1), Node = "elsewhere",
            });
            return await db.SaveChangesAsync();
        });
        var before = await _s.FingerprintAsync();
        (await _s.DeleteAsync($"/api/v1/agents/{t.Backend}")).ShouldBe(HttpStatusCode.Conflict).Json["detail"].Str().ShouldContain("running a turn");
        (await _s.FingerprintAsync()).ShouldBe(before);
        (await _s.DispatchAsync()).ShouldContain(d => d.Agent == t.Backend && d.Task == task);
        (await _s.WithDbAsync(db => db.DispatchRequests.CountAsync(r => r.AgentId == t.Backend && r.State == DispatchState.Pending))).ShouldBe(1);
    }
}

public sealed class AgentDeletionContractSqlite() : AgentDeletionContract(Store.Sqlite);

public sealed class AgentDeletionContractPostgres() : AgentDeletionContract(Store.Postgres);
