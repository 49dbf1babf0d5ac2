using System.Text.Json.Nodes;
using Entourage.Tests.Infrastructure;

namespace Entourage.Tests.Mcp;

/// <summary>The real Claude Code CLI, driven by a scripted model, calls our MCP tools over /mcp.</summary>
public sealed class ClaudeCodeProbe
{
    [Fact]
    public async Task Claude_code_calls_list_team_agents_over_http_mcp()
    {
        await using var server = await TestServer.StartAsync(Store.Sqlite);
        var team = await McpTestTeam.CreateAsync(server, "platform");
        await using var model = await ScriptedModelServer.StartAsync(r => r.Step switch
        {
            0 => new ModelStep.ToolCall("list_team_agents", []),
            _ => new ModelStep.Text("Agents: " + r.Last!.Text),
        });
        var work = Directory.CreateTempSubdirectory("entourage-work-").FullName;
        var run = await AgentClis.ClaudeAsync("Check the team's capacity.", work, new Uri(server.BaseUrl, "/mcp"), team.ManagerToken, model.BaseUrl,
            TestContext.Current.CancellationToken);
        TestContext.Current.SendDiagnosticMessage("model requests logged in " + model.LogDirectory);
        run.ExitCode.ShouldBe(0, run.ToString());
        var result = run.JsonLines.Last(j => j["type"]?.GetValue<string>() == "result");
        result["result"]!.GetValue<string>().ShouldContain("eng-backend", customMessage: run.ToString());
    }
}
