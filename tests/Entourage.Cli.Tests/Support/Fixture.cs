using Entourage.Tests.Infrastructure;

namespace Entourage.Cli.Tests.Support;

/// <summary>Server settings for CLI tests that move tasks themselves: no dispatcher launching agent CLIs behind their back.</summary>
public static class Fixture
{
    public static readonly Dictionary<string, string?> NoDispatch = new() { ["Dispatch:Enabled"] = "false" };

    /// <summary>The spec's team: Platform with eng-backend and eng-frontend.</summary>
    public static async Task CreatePlatformTeamAsync(CliDriver cli)
    {
        (await cli.RunAsync("team", "create", "Platform", "--slug", "platform")).ExitCode.ShouldBe(0);
        (await cli.RunAsync("agent", "add", "eng-backend", "--team", "platform", "--description", "Backend specialist — Python, APIs, databases")).ExitCode.ShouldBe(0);
        (await cli.RunAsync("agent", "add", "eng-frontend", "--team", "platform", "--description", "Frontend specialist — React, TypeScript, UI")).ExitCode.ShouldBe(0);
    }

    public static Task<TestServer> StartAsync(Store store) => TestServer.StartAsync(store, NoDispatch);
}
