using System.Text.Json.Nodes;
using Entourage.Cli.Tests.Support;
using Entourage.Tests.Infrastructure;

namespace Entourage.Cli.Tests.Terminal;

/// <summary>
/// `entourage run` in a tmux pseudo-terminal while the real dispatcher runs fake engineers (tests/FakeAgent): the
/// plan is created as the manager would (create_tasks_batch under the feature), then the engineers' turns move it,
/// report cost, and the view follows. Captures go to artifacts/cli-tmux/fake-*.txt.
/// </summary>
public sealed class RunInTmuxWithFakeAgents : IAsyncLifetime
{
    private static readonly TimeSpan ScreenTimeout = TimeSpan.FromSeconds(120);
    private TestServer _server = null!;
    private CliDriver _cli = null!;
    private readonly string _captures = Path.Combine(RunInTmux.RepoRoot(), "artifacts", "cli-tmux");

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync(Store.Sqlite, new Dictionary<string, string?>
        {
            ["Dispatch:PollSeconds"] = "1",
            ["Dispatch:LogFlushMilliseconds"] = "50",
        });
        _cli = new CliDriver(_server.BaseUrl);
        (await _cli.RunAsync("team", "create", "Platform", "--slug", "platform")).ExitCode.ShouldBe(0);
        foreach (var name in new[] { "eng-backend", "eng-frontend" })
            await FakeAgents.AddAsync(_cli, _server.DataDirectory, "platform", name, [
                new JsonObject { ["do"] = "print", ["text"] = $"{name} working on task {{task_id}}" },
                // Long enough for a person (and the capture) to see the task running.
                new JsonObject { ["do"] = "sleep", ["ms"] = 1500 },
                new JsonObject { ["do"] = "usage", ["cost"] = 0.1, ["input"] = 1000, ["output"] = 100 },
                new JsonObject { ["do"] = "http", ["method"] = "POST", ["path"] = "/api/v1/tasks/{task_id}/status", ["body"] = new JsonObject { ["status"] = "done" } },
            ], closesOwnTasks: true);
        Directory.CreateDirectory(_captures);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Fake_engineers_move_the_plan_on_screen()
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "entourage.dll");
        using var feed = Feed.Subscribe(_server);
        var command = $"cd '{_server.DataDirectory}' && ENTOURAGE_URL='{_server.BaseUrl}' ENTOURAGE_CONFIG=/nonexistent dotnet '{cli}' run 'Add user profile page' --team platform; echo \"[exit $?]\"; sleep 600";
        await using var tmux = await Tmux.StartAsync(command);
        var feature = await Feed.NextTaskCreatedAsync(feed, TestContext.Current.CancellationToken);

        // The manager's create_tasks_batch, under the feature.
        await _server.PostJsonAsync("/api/v1/teams/platform/tasks/batch", $$"""
            {"tasks": [
              {"title": "Create GET/PATCH /api/v1/users/me endpoint", "priority": "high", "assignee_id": "eng-backend", "parent_id": {{feature}}},
              {"title": "Build profile page component in React", "priority": "high", "assignee_id": "eng-frontend", "parent_id": {{feature}}, "depends_on_indices": [0]}
            ]}
            """);

        var screen = await tmux.WaitForScreenAsync(s => Row(s, "Create GET/PATCH").Contains("in_progress"), "the backend task running", ScreenTimeout);
        await SaveAsync("fake-1-backend-running", screen);
        Row(screen, "Build profile page component").ShouldContain("todo");

        screen = await tmux.WaitForScreenAsync(s => Row(s, "Create GET/PATCH").Contains("done") && Row(s, "Build profile page component").Contains("in_progress"),
            "the frontend task running after the backend one", ScreenTimeout);
        await SaveAsync("fake-2-frontend-running", screen);

        // The feature is a parent task: it is done as soon as both sub-tasks are (issue #6), and `run` ends there.
        // The last turn's cost may land just after that, so only the first task's cost is asserted on screen.
        screen = await tmux.WaitForScreenAsync(s => s.Contains("[exit "), "the command ending", ScreenTimeout);
        await SaveAsync("fake-4-final", screen);
        screen.ShouldContain("2/2 tasks done");
        screen.ShouldContain("Feature done.");
        screen.ShouldContain("[exit 0]");
        Row(screen, "Create GET/PATCH").ShouldContain("$0.10");
    }

    private static string Row(string screen, string text) => screen.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) ?? "";

    private Task SaveAsync(string name, string screen) => File.WriteAllTextAsync(Path.Combine(_captures, name + ".txt"), screen);
}
