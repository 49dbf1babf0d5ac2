using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Dispatch;

/// <summary>
/// A task turn claimed on a hint (PostgreSQL) is made only while the agent still runs as the hint said: the
/// dispatcher checked that launch's CLI before claiming, and a task claim is not given back. Driven on the claim
/// statement itself, for an agent whose CLI is missing (so the node's own dispatcher never claims its work).
/// </summary>
public sealed class HintedTaskClaimPostgresTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(Store.Postgres, FastSettings());

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_claim_waits_for_the_launch_the_hint_named_and_then_moves_the_task_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var team = await CreateTeamAsync(_server);
        var body = new JsonObject { ["name"] = "ghost", ["adapter"] = "command", ["config"] = new JsonObject { ["command"] = "/nonexistent/entourage-test-cli" } };
        var ghost = (await _server.PostJsonAsync($"/api/v1/teams/{team}/agents", body.ToJsonString()))["id"]!.GetValue<Guid>();
        var task = await AddReadyTaskAsync(_server, team, ghost, "haunt the build");
        var claimer = _server.Services.GetRequiredService<Claimer>();

        await using var db = Db(_server);
        var stored = await db.Agents.Where(a => a.Id == ghost).Select(a => new { a.Adapter, a.ConfigJson }).SingleAsync(ct);
        var now = DateTime.UtcNow;
        var lease = TimeSpan.FromMinutes(5);

        // The agent's config changed since the hint: no claim, nothing written.
        var changed = new AgentLaunch(stored.Adapter, """{"command": "/bin/true"}""");
        (await QuickClaim.TryExpectedAsync(db, claimer.Self.Id, ghost, team, changed, lease, now, ct)).ShouldBeNull();
        (await db.Turns.CountAsync(t => t.AgentId == ghost, ct)).ShouldBe(0);
        (await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == task, ct)).Status.ShouldBe(TaskState.Todo);

        // As stored: the turn, the task moved with its two timeline entries, its wake-up claimed.
        var claimed = await QuickClaim.TryExpectedAsync(db, claimer.Self.Id, ghost, team, new AgentLaunch(stored.Adapter, stored.ConfigJson), lease, now, ct);
        var (turn, changes) = claimed.ShouldNotBeNull();
        turn.Turn.TaskId.ShouldBe(task);
        changes.Select(c => c.Kind).ShouldBe(["task", "task_event", "task_event"]);
        (await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == task, ct)).Status.ShouldBe(TaskState.InProgress);
        (await db.DispatchRequests.AsNoTracking().SingleAsync(r => r.AgentId == ghost, ct)).TurnId.ShouldBe(turn.Turn.Id);

        // The same hint again finds the agent busy: nothing more.
        (await QuickClaim.TryExpectedAsync(db, claimer.Self.Id, ghost, team, new AgentLaunch(stored.Adapter, stored.ConfigJson), lease, now, ct)).ShouldBeNull();
        (await db.Turns.CountAsync(t => t.AgentId == ghost, ct)).ShouldBe(1);
    }
}
