using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Shouldly;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Dispatch;

/// <summary>
/// A "done" in one batch (QuickDone) claims the turn of the dependent it makes ready. When another node starts a turn of
/// that agent at the same moment, the batch's turn meets the one-running-turn index and the whole batch rolls back; the
/// change is then made by the general path, once: the task done, the dependent unblocked with its wake-up pending for
/// the agent's next turn, and still one running turn. Staged with a second connection holding an uncommitted running
/// turn of the agent (another node mid-claim): the batch waits on the index until it commits.
/// </summary>
public sealed class QuickDoneRacePostgresTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(Store.Postgres, FastSettings());

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_done_whose_claim_loses_to_another_nodes_turn_is_made_once_by_the_general_path()
    {
        var ct = TestContext.Current.CancellationToken;
        var team = await CreateTeamAsync(_server);
        var x = await AddFakeAgentAsync(_server, team, "eng-x", Script(Step("print", new { text = "ok" })));
        var y = await AddFakeAgentAsync(_server, team, "eng-y", Script(Step("print", new { text = "ok" })));
        var upstream = await AddReadyTaskAsync(_server, team, x, "lay the ground");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.TaskId == upstream && t.State == TurnState.Succeeded), "the upstream task's turn");
        var dependent = await AddTaskAsync(_server, team, y, "build on it", upstream);
        var slots = _server.Services.GetRequiredService<TurnSlots>();
        var claimsBefore = slots.WriteClaims;

        // Another node's turn of the dependent's agent, not committed yet (its lease a minute ahead: no sweeper takes it).
        await using var otherNode = Db(_server);
        var conn = (NpgsqlConnection)otherNode.Database.GetDbConnection();
        await conn.OpenAsync(ct);
        var otherTurn = Guid.NewGuid();
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            await DispatchHarnessExtras.InsertTurnAsync(conn, otherTurn, y, team, "running", DateTime.UtcNow.AddMinutes(1), null, ct);
            var done = _server.PostJsonAsync($"/api/v1/tasks/{upstream}/status", """{"status": "done"}""");
            // The batch's turn waits on the index for that transaction.
            await WaitUntilAsync(_server, async db => await db.Database
                .SqlQuery<int>($"SELECT COUNT(*)::int AS \"Value\" FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
                .SingleAsync() > 0, "the done's batch waiting on the other node's turn");
            await tx.CommitAsync(ct);
            (await done)["status"]!.GetValue<string>().ShouldBe("done");
        }

        await using var db = Db(_server);
        (await db.Tasks.SingleAsync(t => t.Id == upstream, ct)).Status.ShouldBe(TaskState.Done);
        (await db.Tasks.SingleAsync(t => t.Id == dependent, ct)).Status.ShouldBe(TaskState.Todo);
        (await db.TaskEvents.CountAsync(e => e.TaskId == upstream && e.Kind == "status_changed" && e.ToStatus == "done", ct)).ShouldBe(1);
        (await db.TaskEvents.CountAsync(e => e.TaskId == dependent && e.Kind == "unblocked", ct)).ShouldBe(1);
        (await db.DispatchRequests.CountAsync(r => r.TaskId == dependent && r.AgentId == y && r.Reason == DispatchReason.TaskReady && r.State == DispatchState.Pending, ct)).ShouldBe(1);
        (await db.Turns.Where(t => t.AgentId == y && t.State == TurnState.Running).Select(t => t.Id).ToListAsync(ct)).ShouldBe([otherTurn]);
        slots.WriteClaims.ShouldBe(claimsBefore, "neither path claimed: the agent's turn runs elsewhere");
    }
}
