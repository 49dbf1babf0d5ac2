using Entourage.Cli.Infrastructure;
using Entourage.Cli.Tests.Support;
using Entourage.Tests.Infrastructure;

namespace Entourage.Cli.Tests.Verbs;

/// <summary>task, batch, message and inbox verbs against a real server, once per store.</summary>
public abstract class TaskVerbs(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;
    private CliDriver _cli = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await Fixture.StartAsync(store);
        _cli = new CliDriver(_server.BaseUrl, workingDirectory: _server.DataDirectory,
            env: new Dictionary<string, string?> { ["ENTOURAGE_TEAM"] = "platform", ["USER"] = "alice" });
        await Fixture.CreatePlatformTeamAsync(_cli);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private async Task<long> CreateAsync(params string[] args)
    {
        var r = await _cli.RunAsync(["task", "create", .. args, "--json"]);
        r.ExitCode.ShouldBe(0, r.ToString());
        return r.Json()["id"]!.GetValue<long>();
    }

    [Fact]
    public async Task The_DAG_through_the_cli_create_list_status_assign_events()
    {
        var api = await CreateAsync("Create GET/PATCH /api/v1/users/me endpoint", "-p", "high", "--assignee", "eng-backend");
        var page = await CreateAsync("Build profile page component in React", "--priority", "high", "--depends-on", api.ToString(), "-a", "eng-frontend");

        var list = await _cli.RunAsync("task", "list", "--json");
        list.Json().AsArray().Count.ShouldBe(2);
        var table = await _cli.RunAsync("task", "list");
        table.Out.ShouldContain($"waits for #{api}");
        table.Out.ShouldContain("eng-frontend");

        // The DAG refuses to start the page before the API is done: a conflict.
        var early = await _cli.RunAsync("task", "status", page.ToString(), "in_progress");
        early.ExitCode.ShouldBe(ExitCodes.Conflict, early.ToString());

        (await _cli.RunAsync("task", "status", api.ToString(), "in_progress")).ExitCode.ShouldBe(0);
        var done = await _cli.RunAsync("task", "status", $"#{api}", "done");
        done.ExitCode.ShouldBe(0, done.ToString());
        done.Out.ShouldContain("in_progress → done");
        (await _cli.RunAsync("task", "show", page.ToString(), "--json")).Json()["ready"]!.GetValue<bool>().ShouldBeTrue();

        var unassigned = await _cli.RunAsync("task", "assign", page.ToString(), "none", "--json");
        unassigned.Json()["assignee_id"].ShouldBeNull();
        var assigned = await _cli.RunAsync("task", "assign", page.ToString(), "eng-frontend");
        assigned.ExitCode.ShouldBe(0, assigned.ToString());
        assigned.Out.ShouldContain("eng-frontend");

        var events = await _cli.RunAsync("task", "events", api.ToString(), "--json");
        var kinds = events.Json().AsArray().Select(e => e!["kind"]!.GetValue<string>()).ToList();
        kinds.ShouldContain("created");
        kinds.Count(k => k == "status_changed").ShouldBe(2);
        var timeline = await _cli.RunAsync("task", "events", api.ToString());
        timeline.Out.ShouldContain("in_progress → done");

        var show = await _cli.RunAsync("task", "show", page.ToString());
        show.Out.ShouldContain($"#{api}");
        show.Out.ShouldContain("Build profile page component in React");
    }

    [Fact]
    public async Task Task_errors_map_to_exit_codes()
    {
        (await _cli.RunAsync("task", "show", "999999")).ExitCode.ShouldBe(ExitCodes.NotFound);
        (await _cli.RunAsync("task", "show", "abc")).ExitCode.ShouldBe(ExitCodes.Usage);
        (await _cli.RunAsync("task", "create", "x", "--depends-on", "two")).ExitCode.ShouldBe(ExitCodes.Usage);
        var bad = await _cli.RunAsync("task", "create", "x", "--priority", "urgent");
        bad.ExitCode.ShouldBe(ExitCodes.Usage, bad.ToString());
        bad.Error.ShouldContain("priority");
        (await _cli.RunAsync("task", "list", "--json")).Json().AsArray().Count.ShouldBe(0);
    }

    [Fact]
    public async Task Batch_from_a_file_is_all_or_nothing()
    {
        var agents = (await _cli.RunAsync("agent", "list", "--json")).Json().AsArray();
        var backend = agents.Single(a => a!["name"]!.GetValue<string>() == "eng-backend")!["id"]!.GetValue<Guid>();
        var file = Path.Combine(_server.DataDirectory, "plan.json");
        await File.WriteAllTextAsync(file, $$"""
            {"tasks": [
              {"title": "Create database migration for notifications table", "priority": "high", "task_type": "feature", "assignee_id": "{{backend}}"},
              {"title": "Build notification API endpoints", "priority": "high", "task_type": "feature", "assignee_id": "{{backend}}", "depends_on_indices": [0]},
              {"title": "Build notification bell UI component", "priority": "medium", "task_type": "feature", "assignee_id": "eng-frontend", "depends_on_indices": [1]}
            ]}
            """);
        var created = await _cli.RunAsync("batch", "plan.json", "--json");
        created.ExitCode.ShouldBe(0, created.ToString());
        var tasks = created.Json()["tasks"]!.AsArray();
        tasks.Count.ShouldBe(3);
        tasks[2]!["depends_on"]!.AsArray().Single()!.GetValue<long>().ShouldBe(tasks[1]!["id"]!.GetValue<long>());

        var cyclic = Path.Combine(_server.DataDirectory, "cycle.json");
        await File.WriteAllTextAsync(cyclic, """[{"title": "a", "depends_on_indices": [1]}, {"title": "b", "depends_on_indices": [0]}]""");
        var rejected = await _cli.RunAsync("batch", cyclic);
        rejected.ExitCode.ShouldBe(ExitCodes.Usage, rejected.ToString());
        (await _cli.RunAsync("task", "list", "--json")).Json().AsArray().Count.ShouldBe(3);

        (await _cli.RunAsync("batch", "missing.json")).ExitCode.ShouldBe(ExitCodes.Usage);
    }

    [Fact]
    public async Task Message_send_reaches_the_inbox()
    {
        var sent = await _cli.RunAsync("message", "send", "eng-backend", "For the profile endpoint, use the same auth pattern as /auth/me.", "--json");
        sent.ExitCode.ShouldBe(0, sent.ToString());
        sent.Json()["sender_name"]!.GetValue<string>().ShouldBe("alice");

        var fromManager = await _cli.RunAsync("message", "send", "eng-backend", "Return 404 if user not found.", "--from", "manager");
        fromManager.ExitCode.ShouldBe(0, fromManager.ToString());
        fromManager.Out.ShouldContain("manager → eng-backend");

        var inbox = await _cli.RunAsync("inbox", "eng-backend", "--json");
        inbox.Json()["unread_count"]!.GetValue<int>().ShouldBe(2);
        var shown = await _cli.RunAsync("inbox", "eng-backend", "--mark-read");
        shown.Out.ShouldContain("same auth pattern");
        (await _cli.RunAsync("inbox", "eng-backend", "--json")).Json()["unread_count"]!.GetValue<int>().ShouldBe(0);

        (await _cli.RunAsync("message", "send", "nobody", "hi")).ExitCode.ShouldBeOneOf(ExitCodes.NotFound, ExitCodes.Usage);
    }

    [Fact]
    public async Task Wait_returns_when_the_tasks_finish_and_exits_1_on_timeout()
    {
        var a = await CreateAsync("Design notification schema", "-a", "eng-backend");
        var b = await CreateAsync("Build notification API endpoints", "-a", "eng-backend");
        var wait = _cli.RunAsync(["task", "wait", a.ToString(), b.ToString(), "--timeout", "600", "--json"], TestContext.Current.CancellationToken);
        foreach (var id in new[] { a, b })
        {
            await _server.PostJsonAsync($"/api/v1/tasks/{id}/status", """{"status": "in_progress"}""");
            await _server.PostJsonAsync($"/api/v1/tasks/{id}/status", """{"status": "done"}""");
        }
        var result = await wait;
        result.ExitCode.ShouldBe(0, result.ToString());
        result.Json()["completed"]!.GetValue<bool>().ShouldBeTrue();
        result.Json()["tasks"]!.AsArray().Select(t => t!["status"]!.GetValue<string>()).ShouldBe(["done", "done"]);

        var pending = await CreateAsync("Add notification bell to navbar");
        var timedOut = await _cli.RunAsync("task", "wait", pending.ToString(), "--timeout", "1");
        timedOut.ExitCode.ShouldBe(ExitCodes.Error, timedOut.ToString());
        timedOut.Out.ShouldContain("Timed out");
    }

    [Fact]
    public async Task Settings_show_and_change_the_budget_and_concurrency()
    {
        var changed = await _cli.RunAsync("settings", "--daily-cost-limit", "10.00", "--max-concurrent", "3", "--json");
        changed.ExitCode.ShouldBe(0, changed.ToString());
        changed.Json()["daily_cost_limit_usd"]!.GetValue<decimal>().ShouldBe(10.00m);
        changed.Json()["max_concurrent_agents"]!.GetValue<int>().ShouldBe(3);

        var shown = await _cli.RunAsync("settings");
        shown.Out.ShouldContain("$10.00");
        shown.Out.ShouldContain("3");

        var cleared = await _cli.RunAsync("settings", "--max-concurrent", "none", "--json");
        cleared.Json()["max_concurrent_agents"].ShouldBeNull();
        cleared.Json()["daily_cost_limit_usd"]!.GetValue<decimal>().ShouldBe(10.00m);

        (await _cli.RunAsync("settings", "--daily-cost-limit", "lots")).ExitCode.ShouldBe(ExitCodes.Usage);
        var negative = await _cli.RunAsync("settings", "--daily-cost-limit", "-5");
        negative.ExitCode.ShouldBe(ExitCodes.Usage, negative.ToString());
        negative.Error.ShouldContain("daily_cost_limit_usd");
        (await _cli.RunAsync("settings", "--json")).Json()["daily_cost_limit_usd"]!.GetValue<decimal>().ShouldBe(10.00m);
    }
}

public sealed class TaskVerbsSqlite() : TaskVerbs(Store.Sqlite);

public sealed class TaskVerbsPostgres() : TaskVerbs(Store.Postgres);
