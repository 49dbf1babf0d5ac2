using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Dispatch;

/// <summary>
/// A write that claims its recipient's turn in its own transaction (TurnSlots) can lose the race to another node
/// that starts a turn of the same agent at the same moment: the one-running-turn index rejects the second turn. The
/// write itself must survive that, whole. Staged for real: a second "node" (a plain connection) holds an uncommitted
/// running turn of the agent, so the write's claim waits on the index, then fails when that turn commits.
/// <para>
/// The status change's "done" is QuickDone's first (one batch, the claim in it): its failure rolls the batch back
/// whole, and the general path must then make the change once, its own claim finding the agent running. A QuickDone
/// that passed the failure on answered 500 here (checked).
/// </para>
/// </summary>
public sealed class WriteClaimRacePostgresTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(Store.Postgres, FastSettings());

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_status_change_whose_dependent_claim_loses_the_race_still_commits_whole()
    {
        var ct = TestContext.Current.CancellationToken;
        var team = await CreateTeamAsync(_server);
        var x = await AddFakeAgentAsync(_server, team, "eng-x", Script(Step("print", new { text = "ok" })));
        var y = await AddFakeAgentAsync(_server, team, "eng-y", Script(Step("print", new { text = "ok" })));
        var upstream = await AddReadyTaskAsync(_server, team, x, "lay the ground");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.TaskId == upstream && t.State == TurnState.Succeeded), "the upstream task's turn");
        var dependent = await AddTaskAsync(_server, team, y, "build on it", upstream);

        await using var otherNode = Db(_server);
        await using var foreign = await BeginForeignTurnAsync(otherNode, y, team, ct);
        var done = _server.PostJsonAsync($"/api/v1/tasks/{upstream}/status", """{"status": "done"}""");
        await WaitForClaimBlockedAsync();
        await foreign.CommitAsync(ct);
        var answer = await done;

        answer["status"]!.GetValue<string>().ShouldBe("done");
        await using var db = Db(_server);
        (await db.Tasks.SingleAsync(t => t.Id == upstream, ct)).Status.ShouldBe(TaskState.Done);
        // The dependent was made ready (its entry, its wake-up) but not started: y's only running turn is the other node's.
        (await db.TaskEvents.CountAsync(e => e.TaskId == dependent && e.Kind == "unblocked", ct)).ShouldBe(1);
        (await db.Tasks.SingleAsync(t => t.Id == dependent, ct)).Status.ShouldBe(TaskState.Todo);
        var wakeUp = await db.DispatchRequests.SingleAsync(r => r.TaskId == dependent, ct);
        wakeUp.State.ShouldBe(DispatchState.Pending);
        wakeUp.TurnId.ShouldBeNull();
        (await db.Turns.CountAsync(t => t.AgentId == y, ct)).ShouldBe(1);
        _server.Services.GetRequiredService<TurnSlots>().WriteClaims.ShouldBe(0);
    }

    [Fact]
    public async Task A_message_whose_claim_loses_the_race_is_still_sent_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var team = await CreateTeamAsync(_server);
        var y = await AddFakeAgentAsync(_server, team, "eng-y", Script(Step("print", new { text = "ok" })));

        await using var otherNode = Db(_server);
        await using var foreign = await BeginForeignTurnAsync(otherNode, y, team, ct);
        var sent = _server.PostJsonAsync($"/api/v1/teams/{team}/messages", $$"""{"recipient_id": "{{y}}", "body": "ping"}""");
        await WaitForClaimBlockedAsync();
        await foreign.CommitAsync(ct);
        var message = await sent;

        await using var db = Db(_server);
        var id = message["id"]!.GetValue<long>();
        (await db.Messages.CountAsync(m => m.RecipientId == y, ct)).ShouldBe(1);
        var wakeUp = await db.DispatchRequests.SingleAsync(r => r.AgentId == y, ct);
        wakeUp.Ref.ShouldBe(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        wakeUp.State.ShouldBe(DispatchState.Pending);
        (await db.Turns.CountAsync(t => t.AgentId == y, ct)).ShouldBe(1);
        _server.Services.GetRequiredService<TurnSlots>().WriteClaims.ShouldBe(0);
    }

    /// <summary>Another node's running turn of <paramref name="agent"/>, inserted and not yet committed.</summary>
    private static async Task<Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction> BeginForeignTurnAsync(AppDbContext db, Guid agent, Guid team, CancellationToken ct)
    {
        var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO turns (id, agent_id, team_id, task_id, state, node, attempt, started_at, ended_at, heartbeat_at, lease_until,
                               exit_code, error, session_id, working_directory, log, input_tokens, output_tokens, cache_read_tokens,
                               cache_write_tokens, cost_usd, token_hash)
            VALUES ({Guid.CreateVersion7()}, {agent}, {team}, NULL, 'running', 'other-node', 1, now(), NULL, now(), now() + interval '1 hour',
                    NULL, NULL, NULL, NULL, '', 0, 0, 0, 0, 0, NULL)
            """, ct);
        return tx;
    }

    /// <summary>
    /// Until the server's write waits for the uncommitted turn's transaction (a lock wait in the store; nothing else in
    /// this database takes row or transaction locks that conflict while the test holds that one open).
    /// </summary>
    private Task WaitForClaimBlockedAsync() => WaitUntilAsync(_server, async db =>
        await db.Database.SqlQueryRaw<int>("""
            SELECT COUNT(*)::int AS "Value" FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'transactionid'
            """).SingleAsync() > 0, "the write's claim to wait on the other node's turn");
}
