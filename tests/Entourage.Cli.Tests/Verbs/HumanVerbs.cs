using Entourage.Cli.Infrastructure;
using Entourage.Cli.Tests.Support;
using Entourage.Tests.Infrastructure;

namespace Entourage.Cli.Tests.Verbs;

/// <summary>ask / answer: the questions agents put to people, once per store.</summary>
public abstract class HumanVerbs(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;
    private CliDriver _cli = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await Fixture.StartAsync(store);
        _cli = new CliDriver(_server.BaseUrl, env: new Dictionary<string, string?> { ["ENTOURAGE_TEAM"] = "platform", ["USER"] = "alice" });
        await Fixture.CreatePlatformTeamAsync(_cli);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private async Task<long> AgentAsksAsync(string agent, string json)
    {
        var id = (await _cli.RunAsync("agent", "show", agent, "--json")).Json()["id"]!.GetValue<Guid>();
        return (await _server.PostJsonAsync($"/api/v1/agents/{id}/human-requests", json))["id"]!.GetValue<long>();
    }

    [Fact]
    public async Task Ask_lists_pending_questions_and_answer_sends_the_reply()
    {
        (await _cli.RunAsync("ask")).Out.ShouldContain("No questions");
        var q1 = await AgentAsksAsync("eng-backend", """{"question": "JWT or session cookies for /users/me?", "kind": "choice", "options": ["jwt", "cookies"]}""");
        var q2 = await AgentAsksAsync("eng-frontend", """{"question": "May I add a dependency on date-fns?", "kind": "approval"}""");

        var listed = await _cli.RunAsync("ask", "--json");
        listed.ExitCode.ShouldBe(0, listed.ToString());
        listed.Json().AsArray().Select(r => r!["id"]!.GetValue<long>()).ShouldBe([q1, q2]);
        var table = await _cli.RunAsync("ask");
        table.Out.ShouldContain("JWT or session cookies");
        table.Out.ShouldContain("jwt | cookies");
        table.Out.ShouldContain("eng-backend");

        var answered = await _cli.RunAsync("answer", q1.ToString(), "jwt", "--json");
        answered.ExitCode.ShouldBe(0, answered.ToString());
        answered.Json()["status"]!.GetValue<string>().ShouldBe("answered");
        answered.Json()["answered_by"]!.GetValue<string>().ShouldBe("alice");

        // A choice outside the options is refused with the options named; nothing changes.
        var wrong = await _cli.RunAsync("answer", q2.ToString(), "maybe");
        wrong.ExitCode.ShouldBe(ExitCodes.Usage, wrong.ToString());
        (await _cli.RunAsync("answer", q2.ToString(), "approve")).ExitCode.ShouldBe(0);

        (await _cli.RunAsync("ask", "--json")).Json().AsArray().Count.ShouldBe(0);
        (await _cli.RunAsync("ask", "--all", "--json")).Json().AsArray().Count.ShouldBe(2);
        (await _cli.RunAsync("answer", "999999", "x")).ExitCode.ShouldBe(ExitCodes.NotFound);
        var again = await _cli.RunAsync("answer", q1.ToString(), "cookies");
        again.ExitCode.ShouldBe(ExitCodes.Conflict, again.ToString());
    }

    [Fact]
    public async Task Answer_without_text_and_without_a_terminal_never_prompts()
    {
        var q = await AgentAsksAsync("eng-backend", """{"question": "Which port?"}""");
        var r = await _cli.RunAsync("answer", q.ToString());
        r.ExitCode.ShouldBe(ExitCodes.Usage);
        r.Error.ShouldContain("no prompts");
    }
}

public sealed class HumanVerbsSqlite() : HumanVerbs(Store.Sqlite);

public sealed class HumanVerbsPostgres() : HumanVerbs(Store.Postgres);
