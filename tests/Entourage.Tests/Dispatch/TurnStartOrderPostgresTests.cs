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
/// A turn claimed by the write that gives its agent work (one statement, its time set before it was sent) is recorded
/// as starting no earlier than the agent's previous turn ended. That end can be stamped, on another thread or node,
/// after the claim read its clock; recorded as it was, the two turns overlapped by a millisecond, as if the agent had
/// run twice at once (seen once in the two-node test under load). Staged here by a previous turn whose end lies a
/// minute ahead of the claim's clock.
/// </summary>
public sealed class TurnStartOrderPostgresTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(Store.Postgres, FastSettings());

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private TurnSlots Slots => _server.Services.GetRequiredService<TurnSlots>();

    [Fact]
    public async Task A_turn_claimed_by_its_message_starts_after_the_agents_previous_turn_ended()
    {
        var team = await CreateTeamAsync(_server);
        var agent = await AddFakeAgentAsync(_server, team, "eng", Script(Step("print", new { text = "ok" })));
        var (previous, end) = await InsertLateEndedTurnAsync(agent, team);
        var claimsBefore = Slots.WriteClaims;

        await SendMessageAsync(_server, team, agent, "hello");

        var turn = await NextTurnAsync(agent, previous);
        Slots.WriteClaims.ShouldBe(claimsBefore + 1, "the message's own statement claimed the turn");
        turn.StartedAt.ShouldBeGreaterThanOrEqualTo(end);
    }

    [Fact]
    public async Task A_dependents_turn_claimed_by_the_done_that_readied_it_starts_after_its_previous_turn_ended()
    {
        var team = await CreateTeamAsync(_server);
        var x = await AddFakeAgentAsync(_server, team, "eng-x", Script(Step("print", new { text = "ok" })));
        var y = await AddFakeAgentAsync(_server, team, "eng-y", Script(Step("print", new { text = "ok" })));
        var upstream = await AddReadyTaskAsync(_server, team, x, "lay the ground");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.TaskId == upstream && t.State == TurnState.Succeeded), "the upstream task's turn");
        await AddTaskAsync(_server, team, y, "build on it", upstream);
        var (previous, end) = await InsertLateEndedTurnAsync(y, team);
        var claimsBefore = Slots.WriteClaims;

        await _server.PostJsonAsync($"/api/v1/tasks/{upstream}/status", """{"status": "done"}""");

        var turn = await NextTurnAsync(y, previous);
        Slots.WriteClaims.ShouldBe(claimsBefore + 1, "the status change's own batch claimed the turn");
        turn.StartedAt.ShouldBeGreaterThanOrEqualTo(end);
    }

    /// <summary>A finished turn of the agent whose end was stamped a minute after "now" (as a late stamp would be).</summary>
    private async Task<(Guid Id, DateTime End)> InsertLateEndedTurnAsync(Guid agent, Guid team)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = Db(_server);
        var conn = (NpgsqlConnection)db.Database.GetDbConnection();
        await conn.OpenAsync(ct);
        var (id, end) = (Guid.NewGuid(), DateTime.UtcNow.AddMinutes(1));
        await DispatchHarnessExtras.InsertTurnAsync(conn, id, agent, team, "succeeded", end.AddSeconds(-1), end, ct);
        // As the store keeps it (microseconds).
        return (id, DateTime.SpecifyKind(new DateTime(end.Ticks - end.Ticks % 10), DateTimeKind.Utc));
    }

    private async Task<Server.Storage.Entities.Turn> NextTurnAsync(Guid agent, Guid previous)
    {
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.AgentId == agent && t.Id != previous && t.State != TurnState.Running), "the agent's new turn");
        await using var db = Db(_server);
        return await db.Turns.AsNoTracking().SingleAsync(t => t.AgentId == agent && t.Id != previous, TestContext.Current.CancellationToken);
    }
}
