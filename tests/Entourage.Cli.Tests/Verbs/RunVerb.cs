using Entourage.Cli.Infrastructure;
using Entourage.Cli.Tests.Support;
using Entourage.Tests.Infrastructure;

namespace Entourage.Cli.Tests.Verbs;

/// <summary>
/// `entourage run` without a terminal (line per change): the feature is submitted as a top-level task, the plan
/// the "manager" (this test, over REST) creates under it appears, tasks move, and the command ends when the
/// feature is done. Ctrl-C (cancellation) detaches and leaves the work alone.
/// </summary>
public abstract class RunVerb(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;
    private CliDriver _cli = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await Fixture.StartAsync(store);
        _cli = new CliDriver(_server.BaseUrl, env: new Dictionary<string, string?> { ["ENTOURAGE_TEAM"] = "platform" });
        await Fixture.CreatePlatformTeamAsync(_cli);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private Task Status(long id, string status) =>
        _server.PostJsonAsync($"/api/v1/tasks/{id}/status", $$"""{"status": "{{status}}"}""");

    [Fact]
    public async Task Run_follows_the_plan_until_the_feature_is_done()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var feed = Feed.Subscribe(_server);
        var run = _cli.RunAsync(["run", "Add user profile page", "-d", "View and edit name, email, avatar."], timeout.Token);
        var feature = await Feed.NextTaskCreatedAsync(feed, timeout.Token);

        var submitted = await _server.GetJsonAsync($"/api/v1/tasks/{feature}");
        submitted["task_type"]!.GetValue<string>().ShouldBe("feature");
        submitted["priority"]!.GetValue<string>().ShouldBe("high");
        submitted["parent_id"].ShouldBeNull();

        var plan = await _server.PostJsonAsync("/api/v1/teams/platform/tasks/batch", $$"""
            {"tasks": [
              {"title": "Create GET/PATCH /api/v1/users/me endpoint", "assignee_id": "eng-backend", "parent_id": {{feature}}},
              {"title": "Build profile page component in React", "assignee_id": "eng-frontend", "parent_id": {{feature}}, "depends_on_indices": [0]}
            ]}
            """);
        var api = plan["tasks"]![0]!["id"]!.GetValue<long>();
        var page = plan["tasks"]![1]!["id"]!.GetValue<long>();
        await Status(feature, "in_progress");
        foreach (var (id, s) in new[] { (api, "in_progress"), (api, "done"), (page, "in_progress"), (page, "done"), (feature, "done") })
            await Status(id, s);

        var result = await run;
        result.ExitCode.ShouldBe(0, result.ToString());
        result.Out.ShouldContain($"Feature #{feature} Add user profile page → team platform");
        result.Out.ShouldContain($"Create GET/PATCH /api/v1/users/me endpoint");
        result.Out.ShouldContain($"#{page} Build profile page component in React");
        result.Out.ShouldContain("Feature done.");
        result.Out.ShouldContain("2/2 tasks done");
    }

    [Fact]
    public async Task Json_run_prints_one_object_per_change_and_exits_1_when_the_feature_fails()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var feed = Feed.Subscribe(_server);
        var run = _cli.RunAsync(["run", "Risky feature", "--json"], timeout.Token);
        var feature = await Feed.NextTaskCreatedAsync(feed, timeout.Token);
        await Status(feature, "in_progress");
        await Status(feature, "failed");

        var result = await run;
        result.ExitCode.ShouldBe(ExitCodes.Error, result.ToString());
        var events = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!).ToList();
        events[0]!["event"]!.GetValue<string>().ShouldBe("submitted");
        events[^1]!["event"]!.GetValue<string>().ShouldBe("finished");
        events[^1]!["task"]!["status"]!.GetValue<string>().ShouldBe("failed");
    }

    [Fact]
    public async Task Ctrl_C_detaches_and_the_work_goes_on()
    {
        using var stop = new CancellationTokenSource();
        using var feed = Feed.Subscribe(_server);
        var run = _cli.RunAsync(["run", "Long feature"], stop.Token);
        var feature = await Feed.NextTaskCreatedAsync(feed, TestContext.Current.CancellationToken);
        await stop.CancelAsync();

        var result = await run;
        result.ExitCode.ShouldBe(0, result.ToString());
        result.Error.ShouldContain($"entourage run --attach {feature}");
        (await _server.GetJsonAsync($"/api/v1/tasks/{feature}"))["status"]!.GetValue<string>().ShouldBe("todo");

        // Reattach to the same feature and see it finish.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var again = _cli.RunAsync(["run", "--attach", feature.ToString()], timeout.Token);
        await Status(feature, "cancelled");
        (await again).ExitCode.ShouldBe(ExitCodes.Error);
    }

    [Fact]
    public async Task Run_warns_when_the_manager_is_offline_and_why()
    {
        var team = await _server.GetJsonAsync("/api/v1/teams/platform");
        var manager = team["manager"]!["id"]!.GetValue<Guid>();
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/agents/{manager}")
        {
            Content = new StringContent("""{"adapter": "command", "config": {"command": "entourage-no-such-agent-cli"}}""", System.Text.Encoding.UTF8, "application/json"),
        };
        (await _server.Http.SendAsync(patch)).EnsureSuccessStatusCode();

        var r = await _cli.RunAsync("run", "Nobody will plan this", "--no-watch");
        r.ExitCode.ShouldBe(0, r.ToString());
        r.Error.ShouldContain("warning: the team's manager (manager) is offline, so nothing will start until it is back.");
        r.Error.ShouldContain("'entourage-no-such-agent-cli' was not found on PATH.");
        r.Error.ShouldContain("entourage agent show manager --team platform");
    }

    [Fact]
    public async Task Run_needs_a_feature_and_a_known_team()
    {
        (await _cli.RunAsync("run")).ExitCode.ShouldBe(ExitCodes.Usage);
        (await _cli.RunAsync("run", "x", "--team", "nope")).ExitCode.ShouldBe(ExitCodes.NotFound);
        var noWatch = await _cli.RunAsync("run", "Quick one", "--no-watch", "--json");
        noWatch.ExitCode.ShouldBe(0, noWatch.ToString());
    }
}

public sealed class RunVerbSqlite() : RunVerb(Store.Sqlite);

public sealed class RunVerbPostgres() : RunVerb(Store.Postgres);
