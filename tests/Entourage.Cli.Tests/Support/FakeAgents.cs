using System.Text.Json.Nodes;

namespace Entourage.Cli.Tests.Support;

/// <summary>tests/FakeAgent (a scripted agent CLI) as a command-adapter agent, added through the CLI itself.</summary>
public static class FakeAgents
{
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p && File.Exists(p) ? p
        : Environment.GetEnvironmentVariable("PATH")!.Split(Path.PathSeparator).Select(d => Path.Combine(d, "dotnet")).FirstOrDefault(File.Exists)
          ?? throw new InvalidOperationException("dotnet is not on PATH.");

    /// <summary>tests/FakeAgent/bin/{Configuration}/net10.0/FakeAgent.dll, next to this test assembly's build.</summary>
    public static string Dll
    {
        get
        {
            var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var testsDir = testBin.Parent!.Parent!.Parent!.Parent!.FullName;
            var dll = Path.Combine(testsDir, "FakeAgent", "bin", testBin.Parent!.Name, testBin.Name, "FakeAgent.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build tests/FakeAgent first ({dll} is missing).");
        }
    }

    /// <summary>`entourage agent add` for a fake agent running <paramref name="steps"/> on every turn.</summary>
    public static async Task AddAsync(CliDriver cli, string dataDir, string team, string name, JsonArray steps, string role = "engineer", bool closesOwnTasks = false)
    {
        var script = Path.Combine(dataDir, $"script-{name}.json");
        await File.WriteAllTextAsync(script, new JsonObject { ["steps"] = steps }.ToJsonString());
        var config = new JsonObject { ["args"] = new JsonArray(Dll, "--script", script) }.ToJsonString();
        var r = await cli.RunAsync("agent", "add", name, "--team", team, "--role", role, "--adapter", "command",
            "--command", DotnetHost, "--config", config, "--description", "fake agent " + name);
        r.ExitCode.ShouldBe(0, r.ToString());
        if (!closesOwnTasks) return;
        // This fake closes its own tasks over REST. With review required (the default) an agent may not (the
        // review gate), so its team works without review; review has its own tests.
        var settings = await cli.RunAsync("settings", "--team", team, "--require-review", "false");
        settings.ExitCode.ShouldBe(0, settings.ToString());
    }
}
