using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Dispatch;

/// <summary>
/// An agent printing U+0000 (a binary file cat'ed, a tool's raw output) must neither lose its turn log nor fail the
/// turn: PostgreSQL text cannot store NUL, so it is kept as U+FFFD, on both stores alike.
/// </summary>
public abstract class TurnLogNulContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(store, FastSettings());

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Output_with_a_nul_is_stored_readable_and_the_turn_succeeds()
    {
        var team = await CreateTeamAsync(_server);
        var agent = await AddFakeAgentAsync(_server, team, "eng-backend", Script(
            Step("print", new { text = "before\0after" }),
            Step("print", new { text = "last line" }),
            Step("usage", new { cost = 0.01 })));

        await SendMessageAsync(_server, team, agent, "Dump the binary fixture.");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.AgentId == agent && t.State != TurnState.Running), "the turn to end");

        var turn = await TurnAsync(agent);
        turn["state"]!.GetValue<string>().ShouldBe("succeeded", turn.ToJsonString());
        var log = turn["log"]!.GetValue<string>();
        log.ShouldContain("before\uFFFDafter");
        log.ShouldContain("last line", customMessage: "the lines after the NUL were stored too");
        log.ShouldNotContain("\0");
        log.ShouldNotContain("could not be saved");
    }

    [Fact]
    public async Task An_error_the_agent_reports_with_a_nul_is_stored_on_the_failed_turn()
    {
        var team = await CreateTeamAsync(_server);
        // Claude Code's stream-json result with is_error: its text becomes the turn's error.
        var agent = await AddFakeAgentAsync(_server, team, "eng-backend", Script(
            Step("print", new { text = """{"type":"result","subtype":"error_during_execution","is_error":true,"result":"tool output \u0000 garbled"}""" })));

        await SendMessageAsync(_server, team, agent, "Dump the binary fixture.");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.AgentId == agent && t.State != TurnState.Running), "the turn to end");

        var turn = await TurnAsync(agent);
        turn["state"]!.GetValue<string>().ShouldBe("failed", turn.ToJsonString());
        turn["error"]!.GetValue<string>().ShouldBe("tool output \uFFFD garbled");
    }

    private async Task<System.Text.Json.Nodes.JsonNode> TurnAsync(Guid agent)
    {
        await using var db = Db(_server);
        var id = await db.Turns.Where(t => t.AgentId == agent && t.State != TurnState.Running).OrderBy(t => t.StartedAt).Select(t => t.Id).FirstAsync();
        return await _server.GetJsonAsync($"/api/v1/turns/{id}");
    }
}

public sealed class TurnLogNulSqlite() : TurnLogNulContract(Store.Sqlite);

public sealed class TurnLogNulPostgres() : TurnLogNulContract(Store.Postgres);
