using Entourage.Server.Dispatch;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Dispatch;

/// <summary>
/// Every claim's gate reads the agent's latest task in progress. Through an index on (assignee, status, started_at)
/// that is one index entry; through the assignee alone it read and sorted all the agent's tasks in progress (an agent
/// left with 300 of them made the gate 0.18 ms instead of 0.01 on SQLite). The plan, not a timing, is checked.
/// </summary>
public sealed class ClaimGatePlanTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(Store.Sqlite, FastSettings());

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_gate_finds_the_agents_task_in_progress_by_index_without_a_sort()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = Db(_server);
        await db.Database.OpenConnectionAsync(ct);
        await using var cmd = db.Command("EXPLAIN QUERY PLAN " + ClaimQueries.GateSql)
            .With("team", Guid.NewGuid()).With("agent", Guid.NewGuid()).With("today", DateOnly.FromDateTime(DateTime.UtcNow));
        var plan = new List<string>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct)) plan.Add(r.GetString(3));

        plan.ShouldContain(step => step.Contains("SEARCH k USING COVERING INDEX ix_tasks_assignee_id_status_started_at (assignee_id=? AND status=?)"),
            string.Join("\n", plan));
        plan.ShouldNotContain(step => step.Contains("TEMP B-TREE"), string.Join("\n", plan));
    }
}
