using System.Net;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Tests.Review;

/// <summary>Human requests over REST: ask, list oldest first, answer, blocking wait, expiry. Per store.</summary>
public abstract class HumanRequestsContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private async Task<(Guid Team, Guid Agent)> TeamAsync(string slug)
    {
        var org = await _server.DefaultOrgIdAsync();
        var team = await _server.PostJsonAsync($"/api/v1/orgs/{org}/teams", $$"""{"name": "{{slug}}", "slug": "{{slug}}"}""");
        return (team["id"]!.GetValue<Guid>(), team["manager"]!["id"]!.GetValue<Guid>());
    }

    private async Task<T> InDbAsync<T>(Func<AppDbContext, Task<T>> f)
    {
        await using var scope = _server.Services.CreateAsyncScope();
        return await f(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    [Fact]
    public async Task Blocking_ask_gets_the_answer_given_over_REST_and_no_second_turn_is_queued()
    {
        var (_, agent) = await TeamAsync("alpha");
        var waiting = _server.PostJsonAsync($"/api/v1/agents/{agent}/human-requests?wait_seconds=60",
            """{"question": "Which database should the profile API use?", "options": ["PostgreSQL", "SQLite"]}""");

        // The request shows up as pending while the agent waits.
        JsonArray pending;
        do pending = (await _server.GetJsonAsync("/api/v1/human-requests?status=pending")).AsArray();
        while (pending.Count == 0 && !waiting.IsCompleted);
        var id = pending[0]!["id"]!.GetValue<long>();
        pending[0]!["kind"]!.GetValue<string>().ShouldBe("choice");

        var answered = await _server.PostJsonAsync($"/api/v1/human-requests/{id}/respond", """{"answer": "postgresql", "answered_by": "alice"}""");
        answered["status"]!.GetValue<string>().ShouldBe("answered");
        answered["answer"]!.GetValue<string>().ShouldBe("PostgreSQL");

        var result = await waiting;
        result["status"]!.GetValue<string>().ShouldBe("answered");
        result["answer"]!.GetValue<string>().ShouldBe("PostgreSQL");
        result["answered_by"]!.GetValue<string>().ShouldBe("alice");
        // Delivered in the call: the human_answer turn is retired, so the agent is not woken a second time.
        (await InDbAsync(db => db.DispatchRequests.CountAsync(r => r.AgentId == agent && r.Reason == DispatchReason.HumanAnswer && r.State == DispatchState.Pending)))
            .ShouldBe(0);
    }

    [Fact]
    public async Task An_answer_reaches_the_agent_as_a_message_and_a_human_answer_turn()
    {
        var (_, agent) = await TeamAsync("beta");
        var asked = await _server.PostJsonAsync($"/api/v1/agents/{agent}/human-requests", """{"question": "Should deleted users keep their posts?", "kind": "approval"}""");
        var id = asked["id"]!.GetValue<long>();
        asked["status"]!.GetValue<string>().ShouldBe("pending");

        var bad = await _server.Http.PostAsync($"/api/v1/human-requests/{id}/respond", Json("""{"answer": "maybe"}"""));
        bad.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await bad.Content.ReadAsStringAsync()).ShouldContain("approved");

        (await _server.PostJsonAsync($"/api/v1/human-requests/{id}/respond", """{"approved": false, "answer": "keep them anonymised"}"""))
            ["answer"]!.GetValue<string>().ShouldBe("rejected — keep them anonymised");

        var again = await _server.Http.PostAsync($"/api/v1/human-requests/{id}/respond", Json("""{"approved": true}"""));
        again.StatusCode.ShouldBe(HttpStatusCode.Conflict);

        (await InDbAsync(db => db.DispatchRequests.CountAsync(r => r.AgentId == agent && r.Reason == DispatchReason.HumanAnswer && r.TaskId == null)))
            .ShouldBe(1);
        var body = await InDbAsync(db => db.Messages.Where(m => m.RecipientId == agent).Select(m => m.Body).SingleAsync());
        body.ShouldContain("rejected — keep them anonymised");
        body.ShouldContain("Should deleted users keep their posts?");
    }

    [Fact]
    public async Task Lists_oldest_first_across_teams_and_filters_by_team_and_status()
    {
        var (teamA, agentA) = await TeamAsync("gamma");
        var (_, agentB) = await TeamAsync("delta");
        var first = (await _server.PostJsonAsync($"/api/v1/agents/{agentA}/human-requests", """{"question": "first?"}"""))["id"]!.GetValue<long>();
        var second = (await _server.PostJsonAsync($"/api/v1/agents/{agentB}/human-requests", """{"question": "second?"}"""))["id"]!.GetValue<long>();
        var third = (await _server.PostJsonAsync($"/api/v1/agents/{agentA}/human-requests", """{"question": "third?"}"""))["id"]!.GetValue<long>();
        await _server.PostJsonAsync($"/api/v1/human-requests/{third}/respond", """{"answer": "done"}""");

        var all = (await _server.GetJsonAsync("/api/v1/human-requests?status=pending")).AsArray().Select(n => n!["id"]!.GetValue<long>()).ToList();
        all.ShouldBe([first, second]);
        var mine = (await _server.GetJsonAsync($"/api/v1/human-requests?team_id={teamA}")).AsArray().Select(n => n!["id"]!.GetValue<long>()).ToList();
        mine.ShouldBe([first, third]);

        var bad = await _server.Http.GetAsync("/api/v1/human-requests?status=waiting");
        bad.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await bad.Content.ReadAsStringAsync()).ShouldContain("pending");
        (await _server.Http.GetAsync("/api/v1/human-requests/999999")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Invalid_questions_are_422_naming_every_field_and_create_nothing()
    {
        var (_, agent) = await TeamAsync("epsilon");
        var r = await _server.Http.PostAsync($"/api/v1/agents/{agent}/human-requests", Json("""{"question": "", "kind": "choice", "options": ["only one"], "timeout_seconds": 0}"""));
        r.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        var text = await r.Content.ReadAsStringAsync();
        text.ShouldContain("question");
        text.ShouldContain("options");
        text.ShouldContain("timeout_seconds");
        (await _server.GetJsonAsync("/api/v1/human-requests")).AsArray().Count.ShouldBe(0);
    }

    [Fact]
    public async Task An_expired_request_tells_the_agent_nobody_answered()
    {
        var (_, agent) = await TeamAsync("zeta");
        var result = await _server.PostJsonAsync($"/api/v1/agents/{agent}/human-requests?wait_seconds=60", """{"question": "Ship on Friday?", "timeout_seconds": 1}""");
        result["status"]!.GetValue<string>().ShouldBe("expired");
        var late = await _server.Http.PostAsync($"/api/v1/human-requests/{result["id"]}/respond", Json("""{"answer": "yes"}"""));
        late.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await InDbAsync(db => db.Messages.Where(m => m.RecipientId == agent).Select(m => m.Body).SingleAsync())).ShouldContain("Nobody answered");
    }

    private static StringContent Json(string s) => new(s, System.Text.Encoding.UTF8, "application/json");
}

public sealed class HumanRequestsContractSqlite() : HumanRequestsContract(Store.Sqlite);

public sealed class HumanRequestsContractPostgres() : HumanRequestsContract(Store.Postgres);
