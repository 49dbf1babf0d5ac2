using System.Text.Json.Nodes;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Tests.Support;
using Entourage.Tests.Infrastructure;

namespace Entourage.Cli.Tests.Verbs;

/// <summary>logs and costs: a real dispatcher runs a fake agent's turn; the CLI follows its log and reads its cost.</summary>
public abstract class TurnVerbs(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;
    private CliDriver _cli = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync(store, new Dictionary<string, string?>
        {
            ["Dispatch:PollSeconds"] = "1",
            ["Dispatch:LogFlushMilliseconds"] = "50",
        });
        _cli = new CliDriver(_server.BaseUrl, env: new Dictionary<string, string?> { ["ENTOURAGE_TEAM"] = "platform" });
        (await _cli.RunAsync("team", "create", "Platform", "--slug", "platform")).ExitCode.ShouldBe(0);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Logs_follow_a_turn_to_its_end_and_costs_show_its_usage()
    {
        await FakeAgents.AddAsync(_cli, _server.DataDirectory, "platform", "eng-fake", [
            new JsonObject { ["do"] = "print", ["text"] = "hello from the fake agent" },
            new JsonObject { ["do"] = "http", ["method"] = "POST", ["path"] = "/api/v1/tasks/{task_id}/status", ["body"] = new JsonObject { ["status"] = "done" } },
            new JsonObject { ["do"] = "usage", ["cost"] = 0.25, ["input"] = 1200, ["output"] = 300 },
        ], closesOwnTasks: true);
        var created = await _cli.RunAsync("task", "create", "Write the README", "--assignee", "eng-fake", "--json");
        created.ExitCode.ShouldBe(0, created.ToString());
        var task = created.Json()["id"]!.GetValue<long>();

        // The fake marks the task done inside its turn: once wait returns, the turn exists.
        var waited = await _cli.RunAsync("task", "wait", task.ToString(), "--timeout", "120");
        waited.ExitCode.ShouldBe(0, waited.ToString());

        var followed = await _cli.RunAsync("logs", "-f", "eng-fake");
        followed.ExitCode.ShouldBe(0, followed.ToString());
        followed.Out.ShouldContain("hello from the fake agent");
        followed.Error.ShouldContain("turn ended: succeeded");

        var log = await _cli.RunAsync("logs", "eng-fake");
        log.Out.ShouldContain("hello from the fake agent");
        var turn = (await _cli.RunAsync("logs", "eng-fake", "--json")).Json();
        turn["task_id"]!.GetValue<long>().ShouldBe(task);
        var byId = await _cli.RunAsync("logs", turn["id"]!.GetValue<Guid>().ToString());
        byId.Out.ShouldContain("hello from the fake agent");

        var costs = (await _cli.RunAsync("costs", "--json")).Json();
        costs["total_usd"]!.GetValue<double>().ShouldBe(0.25, 1e-9);
        costs["by_task"]!.AsArray().Single(c => c!["task_id"]?.GetValue<long>() == task)!["cost_usd"]!.GetValue<double>().ShouldBe(0.25, 1e-9);
        var table = await _cli.RunAsync("costs");
        table.Out.ShouldContain("eng-fake");
        table.Out.ShouldContain("$0.25");
        table.Out.ShouldContain("Write the README");

        (await _cli.RunAsync("logs", "manager")).ExitCode.ShouldBe(ExitCodes.NotFound);
    }
}

public sealed class TurnVerbsSqlite() : TurnVerbs(Store.Sqlite);

public sealed class TurnVerbsPostgres() : TurnVerbs(Store.Postgres);
