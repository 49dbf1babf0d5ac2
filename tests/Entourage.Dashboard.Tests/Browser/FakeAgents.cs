using System.Text.Json.Nodes;
using Entourage.Server.Agents;
using Entourage.Tests.Infrastructure;

namespace Entourage.Dashboard.Tests.Browser;

/// <summary>Engineers that run tests/FakeAgent through the command adapter, so the real dispatcher drives them.</summary>
public static class FakeAgents
{
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p && File.Exists(p) ? p
        : AdapterCatalog.Resolve("dotnet") ?? throw new InvalidOperationException("dotnet is not on PATH.");

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

    /// <summary>
    /// A script that logs, waits for the test to say go (a file per task, so the test decides when each task
    /// finishes without sleeping), reports usage, and marks its task done over REST.
    /// </summary>
    public static JsonObject FinishOnSignal(string signalDir, double cost) => new()
    {
        ["steps"] = new JsonArray(
            new JsonObject { ["do"] = "print", ["text"] = "fake engineer working on task {task_id}" },
            new JsonObject { ["do"] = "wait_file", ["path"] = Path.Combine(signalDir, "go-{task_id}") },
            new JsonObject { ["do"] = "usage", ["cost"] = cost, ["input"] = 1000, ["output"] = 200 },
            new JsonObject { ["do"] = "http", ["method"] = "POST", ["path"] = "/api/v1/tasks/{task_id}/status", ["body"] = new JsonObject { ["status"] = "done" } }),
    };

    public static async Task<Guid> AddAsync(TestServer server, Guid teamId, string name, JsonObject script)
    {
        var scriptPath = Path.Combine(server.DataDirectory, $"script-{name}.json");
        await File.WriteAllTextAsync(scriptPath, script.ToJsonString());
        var body = new JsonObject
        {
            ["name"] = name,
            ["role"] = "engineer",
            ["model"] = "fake",
            ["adapter"] = "command",
            ["config"] = new JsonObject { ["command"] = DotnetHost, ["args"] = new JsonArray(Dll, "--script", scriptPath), ["description"] = "fake engineer" },
        };
        var id = (await server.PostJsonAsync($"/api/v1/teams/{teamId}/agents", body.ToJsonString()))["id"]!.GetValue<Guid>();
        // Fake engineers close their own tasks over REST. With review required (the default) an agent may not
        // (the review gate), so teams of fake agents work without review; review has its own tests.
        using var patch = await server.Http.PatchAsync($"/api/v1/settings/teams/{teamId}",
            new StringContent("""{"require_review": false}""", System.Text.Encoding.UTF8, "application/json"));
        patch.EnsureSuccessStatusCode();
        return id;
    }
}
