using Entourage.Cli.Tests.Support;
using Entourage.Tests.Infrastructure;

namespace Entourage.Cli.Tests.Terminal;

/// <summary>
/// `entourage run` as a user sees it: the real CLI process in a tmux pseudo-terminal against a real server, the
/// plan filled in and moved over REST (as the manager and engineers would), the screen captured while tasks move
/// and at the end. Captures are kept under artifacts/cli-tmux/.
/// </summary>
public sealed class RunInTmux : IAsyncLifetime
{
    private static readonly TimeSpan ScreenTimeout = TimeSpan.FromSeconds(60);
    private TestServer _server = null!;
    private readonly string _captures = Path.Combine(RepoRoot(), "artifacts", "cli-tmux");

    public async ValueTask InitializeAsync()
    {
        _server = await Fixture.StartAsync(Store.Sqlite);
        await Fixture.CreatePlatformTeamAsync(new CliDriver(_server.BaseUrl));
        Directory.CreateDirectory(_captures);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_live_view_fills_in_and_moves_until_the_feature_is_done()
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "entourage.dll");
        File.Exists(cli).ShouldBeTrue($"{cli} is missing: the test project references Entourage.Cli, which should copy it.");
        using var feed = Feed.Subscribe(_server);
        var command = $"cd '{_server.DataDirectory}' && ENTOURAGE_URL='{_server.BaseUrl}' ENTOURAGE_CONFIG=/nonexistent dotnet '{cli}' run 'Add user profile page' --team platform; echo \"[exit $?]\"; sleep 600";
        await using var tmux = await Tmux.StartAsync(command);

        var feature = await Feed.NextTaskCreatedAsync(feed, TestContext.Current.CancellationToken);
        var screen = await tmux.WaitForScreenAsync(s => s.Contains("waiting for manager"), "the empty plan", ScreenTimeout);
        await SaveAsync("1-submitted", screen);
        screen.ShouldContain($"Feature #{feature} Add user profile page");

        var plan = await _server.PostJsonAsync("/api/v1/teams/platform/tasks/batch", $$"""
            {"tasks": [
              {"title": "Create GET/PATCH /api/v1/users/me endpoint", "priority": "high", "assignee_id": "eng-backend", "parent_id": {{feature}}},
              {"title": "Build profile page component in React", "priority": "high", "assignee_id": "eng-frontend", "parent_id": {{feature}}, "depends_on_indices": [0]}
            ]}
            """);
        var api = plan["tasks"]![0]!["id"]!.GetValue<long>();
        var page = plan["tasks"]![1]!["id"]!.GetValue<long>();
        screen = await tmux.WaitForScreenAsync(s => s.Contains("Build profile page component") && s.Contains("0/2 tasks done"), "the plan", ScreenTimeout);
        await SaveAsync("2-planned", screen);
        Row(screen, "Build profile page component").ShouldContain($"#{api}");
        Row(screen, "Build profile page component").ShouldContain("eng-frontend");

        await Status(feature, "in_progress");
        await Status(api, "in_progress");
        screen = await tmux.WaitForScreenAsync(s => Row(s, "Create GET/PATCH").Contains("in_progress"), "the API task running", ScreenTimeout);
        await SaveAsync("3-api-running", screen);
        Row(screen, "Build profile page component").ShouldContain("todo");

        await Status(api, "done");
        await Status(page, "in_progress");
        screen = await tmux.WaitForScreenAsync(s => Row(s, "Build profile page component").Contains("in_progress") && s.Contains("1/2 tasks done"), "the page task running", ScreenTimeout);
        await SaveAsync("4-page-running", screen);
        Row(screen, "Create GET/PATCH").ShouldContain("done");

        await Status(page, "done");
        await Status(feature, "done");
        screen = await tmux.WaitForScreenAsync(s => s.Contains("[exit "), "the command ending", ScreenTimeout);
        await SaveAsync("5-final", screen);
        screen.ShouldContain("Feature done.");
        screen.ShouldContain("2/2 tasks done");
        screen.ShouldContain("[exit 0]");
    }

    private Task Status(long id, string status) => _server.PostJsonAsync($"/api/v1/tasks/{id}/status", $$"""{"status": "{{status}}"}""");

    /// <summary>The screen line of the table row that mentions <paramref name="text"/> (empty if none).</summary>
    private static string Row(string screen, string text) => screen.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) ?? "";

    private Task SaveAsync(string name, string screen) => File.WriteAllTextAsync(Path.Combine(_captures, name + ".txt"), screen);

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Entourage.slnx"))) return dir.FullName;
        return Path.GetTempPath();
    }
}
