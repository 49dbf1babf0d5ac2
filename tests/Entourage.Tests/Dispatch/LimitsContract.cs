using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Entourage.Tests.Dispatch.DispatchHarness;
using static Entourage.Tests.Dispatch.DispatchHarnessExtras;

namespace Entourage.Tests.Dispatch;

/// <summary>Team limits: the daily budget and max_concurrent_agents, run once per store.</summary>
public abstract class LimitsContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(store, FastSettings());

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_team_stops_dispatching_once_reported_cost_reaches_its_daily_limit()
    {
        var team = await CreateTeamAsync(_server);
        await PatchSettingsAsync(_server, team, """{"daily_cost_limit_usd": 1.00}""");
        var agent = await AddFakeAgentAsync(_server, team, "eng", Script(Step("usage", new { cost = 0.4, input = 100, output = 10 })));

        // 0.4, 0.8, 1.2: the third turn still starts (0.8 < 1.00) and crosses the limit.
        for (var i = 1; i <= 3; i++)
        {
            await SendMessageAsync(_server, team, agent, $"message {i}");
            var n = i;
            await WaitUntilAsync(_server, async db => await db.Turns.CountAsync(t => t.AgentId == agent && t.State == TurnState.Succeeded) == n, $"turn {n}");
        }
        await SendMessageAsync(_server, team, agent, "one too many");
        await WaitUntilAsync(_server, db => db.HumanRequests.AnyAsync(h => h.TeamId == team && h.Question.Contains("daily cost limit")), "the budget human request");

        await using var db = Db(_server);
        (await db.Turns.CountAsync(t => t.AgentId == agent)).ShouldBe(3);
        (await db.DispatchRequests.CountAsync(d => d.State == DispatchState.Pending)).ShouldBe(1);
        var costs = await _server.GetJsonAsync($"/api/v1/teams/{team}/costs");
        costs["over_budget"]!.GetValue<bool>().ShouldBeTrue();
        costs["spent_today_usd"]!.GetValue<double>().ShouldBe(1.2, 1e-9);

        // A limit still under today's spend leaves the notice open; raising it past the spend lets the waiting work
        // run and answers the notice, which no longer describes the team.
        await PatchSettingsAsync(_server, team, """{"daily_cost_limit_usd": 1.10}""");
        (await _server.GetJsonAsync($"/api/v1/teams/{team}/human-requests?status=pending")).AsArray().Count.ShouldBe(1);
        await PatchSettingsAsync(_server, team, """{"daily_cost_limit_usd": 5.00}""");
        await WaitUntilAsync(_server, async d => await d.Turns.CountAsync(t => t.AgentId == agent && t.State == TurnState.Succeeded) == 4, "the held turn after raising the limit");
        (await _server.GetJsonAsync($"/api/v1/teams/{team}/human-requests?status=pending")).AsArray().Count.ShouldBe(0);
        var notice = (await _server.GetJsonAsync($"/api/v1/teams/{team}/human-requests")).AsArray().Single()!;
        notice["status"]!.GetValue<string>().ShouldBe("answered");
        notice["answer"]!.GetValue<string>().ShouldContain("$5.00");
    }

    [Fact]
    public async Task A_running_turn_is_stopped_when_another_turn_pushes_the_team_over_budget()
    {
        var team = await CreateTeamAsync(_server);
        await PatchSettingsAsync(_server, team, """{"daily_cost_limit_usd": 1.00}""");
        var slow = await AddFakeAgentAsync(_server, team, "slow", Script(Step("print", new { text = "started" }), Step("hang")));
        var spender = await AddFakeAgentAsync(_server, team, "spender", Script(Step("usage", new { cost = 2.5, input = 1, output = 1 })));
        await SendMessageAsync(_server, team, slow, "take your time");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.AgentId == slow && t.Log.Contains("hanging")), "the slow agent to run");
        await SendMessageAsync(_server, team, spender, "spend");

        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.AgentId == slow && t.State == TurnState.Cancelled), "the running turn to be stopped");
        await using var db = Db(_server);
        var stopped = await db.Turns.SingleAsync(t => t.AgentId == slow);
        stopped.Error!.ShouldContain("daily cost limit");
        // Its work was not handled: it waits for budget rather than being dropped.
        (await db.DispatchRequests.SingleAsync(d => d.AgentId == slow)).State.ShouldBe(DispatchState.Pending);
        (await db.HumanRequests.CountAsync(h => h.TeamId == team)).ShouldBe(1);
    }

    [Fact]
    public async Task Max_concurrent_agents_is_never_exceeded()
    {
        var team = await CreateTeamAsync(_server);
        await PatchSettingsAsync(_server, team, """{"max_concurrent_agents": 3}""");
        var agents = new List<Guid>();
        for (var i = 0; i < 7; i++)
            agents.Add(await AddFakeAgentAsync(_server, team, $"eng-{i}", Script(Step("sleep", new { ms = 700 }))));
        foreach (var a in agents) await SendMessageAsync(_server, team, a, "work");
        await WaitUntilAsync(_server, async db => await db.Turns.CountAsync(t => t.State == TurnState.Succeeded) == agents.Count, "every agent's turn", TimeSpan.FromSeconds(120));

        await using var db = Db(_server);
        var turns = await db.Turns.Where(t => t.TeamId == team).Select(t => new { t.StartedAt, t.EndedAt }).ToListAsync();
        var max = MaxOverlap(turns.Select(t => (t.StartedAt, t.EndedAt!.Value)));
        max.ShouldBeLessThanOrEqualTo(3);
        max.ShouldBeGreaterThan(1, "the agents did run in parallel");
    }
}

public sealed class LimitsContractSqlite() : LimitsContract(Store.Sqlite);

public sealed class LimitsContractPostgres() : LimitsContract(Store.Postgres);
