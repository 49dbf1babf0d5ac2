using System.Net;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Tests.Features;

/// <summary>
/// Many parallel transitions and messages on the same tasks: every answer is 200 or 409 (never a 5xx), each
/// task's status_changed events form one unbroken chain ending in its current status, the dependent of several
/// tasks finished at the same moment is unblocked and dispatched exactly once, and no message or its wake-up is lost.
/// </summary>
public abstract class ConcurrencyContract(Store store) : IAsyncLifetime
{
    private TestServer _s = null!;

    public async ValueTask InitializeAsync() => _s = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task Racing_transitions_and_messages_lose_nothing_and_break_no_invariant()
    {
        var t = await _s.TeamAsync();
        var roots = new List<long>();
        for (var i = 0; i < 5; i++) roots.Add(await _s.TaskAsync(t.Id, $$"""{"title": "root {{i}}", "assignee_id": "{{t.Backend}}"}"""));
        var join = await _s.TaskAsync(t.Id, $$"""{"title": "join", "assignee_id": "{{t.Frontend}}", "depends_on": [{{string.Join(",", roots)}}]}""");
        var contested = await _s.TaskAsync(t.Id, """{"title": "contested"}""");

        // Phase 1: every root started by 4 racing requests, the contested task claimed and cancelled at once, 30 messages.
        var calls = new List<Task<Api.Reply>>();
        foreach (var r in roots)
            for (var k = 0; k < 4; k++) calls.Add(_s.StatusAsync(r, "in_progress"));
        for (var k = 0; k < 6; k++)
        {
            calls.Add(_s.StatusAsync(contested, "in_progress"));
            calls.Add(_s.StatusAsync(contested, "cancelled"));
        }
        for (var k = 0; k < 30; k++)
            calls.Add(_s.PostAsync($"/api/v1/teams/{t.Id}/messages", $$"""{"sender_id": "{{t.Manager}}", "recipient_id": "{{(k % 2 == 0 ? t.Backend : t.Frontend)}}", "body": "m{{k}}", "task_id": {{roots[k % roots.Count]}}}"""));
        var phase1 = await Task.WhenAll(calls);

        // Phase 2: all roots finish at the same moment (each by 3 racing requests): the join task's last dependency race.
        calls.Clear();
        foreach (var r in roots)
            for (var k = 0; k < 3; k++) calls.Add(_s.StatusAsync(r, "done"));
        var phase2 = await Task.WhenAll(calls);

        foreach (var reply in phase1.Concat(phase2))
            ((int)reply.Status).ShouldBeOneOf([200, 201, 409], reply.Text);
        phase1.Count(r => r.Status == HttpStatusCode.Created).ShouldBe(30);

        await _s.WithDbAsync(async db =>
        {
            var tasks = await db.Tasks.AsNoTracking().Where(x => x.TeamId == t.Id).ToDictionaryAsync(x => x.Id);
            roots.ShouldAllBe(r => tasks[r].Status == TaskState.Done);
            tasks[contested].Status.ShouldBe(TaskState.Cancelled);
            var events = await db.TaskEvents.AsNoTracking().Where(e => e.TeamId == t.Id).OrderBy(e => e.Id).ToListAsync();
            foreach (var task in tasks.Values)
            {
                // One chain: each transition starts where the previous one ended, and ends at the stored status.
                var state = "todo";
                foreach (var e in events.Where(e => e.TaskId == task.Id && e.Kind == "status_changed"))
                {
                    e.FromStatus.ShouldBe(state, $"task {task.Id}");
                    state = e.ToStatus!;
                }
                state.ShouldBe(EnumNames.ToSnake(task.Status), $"task {task.Id}");
            }
            foreach (var r in roots)
                events.Count(e => e.TaskId == r && e.Kind == "status_changed").ShouldBe(2); // todo→in_progress→done, once each
            events.Count(e => e.TaskId == join && e.Kind == "unblocked").ShouldBe(1);
            events.Count(e => e.Kind == "message").ShouldBe(30);

            var work = await db.DispatchRequests.AsNoTracking().Where(d => d.TeamId == t.Id).ToListAsync();
            work.Count(d => d.Reason == DispatchReason.TaskReady && d.TaskId == join).ShouldBe(1);
            work.Count(d => d.Reason == DispatchReason.Message).ShouldBe(30);
            var messages = await db.Messages.AsNoTracking().Where(m => m.TeamId == t.Id).Select(m => m.Id.ToString()).ToListAsync();
            work.Where(d => d.Reason == DispatchReason.Message).Select(d => d.Ref!).ShouldBe(messages, ignoreOrder: true);
            return 0;
        });
        (await _s.GetAsync($"/api/v1/tasks/{join}")).Json["ready"]!.GetValue<bool>().ShouldBeTrue();
    }
}

public sealed class ConcurrencyContractSqlite() : ConcurrencyContract(Store.Sqlite);

public sealed class ConcurrencyContractPostgres() : ConcurrencyContract(Store.Postgres);
