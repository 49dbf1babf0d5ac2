using Entourage.Tests.Infrastructure;

namespace Entourage.Tests.Mcp;

/// <summary>The real Codex CLI, driven by a scripted Responses endpoint, calls our MCP tools over /mcp.</summary>
public sealed class CodexProbe
{
    // Open (issue #5): Codex 0.169 reaches the scripted Responses endpoint (custom provider in config.toml works) but
    // its first request offers no mcp_servers.entourage tools, and stderr shows no MCP error. Not yet known whether
    // the tools arrive later (async MCP start-up), sit behind a search tool, or the connection is refused.
    [Fact]
    public async Task Codex_calls_list_team_agents_over_http_mcp()
    {
        await using var server = await TestServer.StartAsync(Store.Sqlite);
        var team = await McpTestTeam.CreateAsync(server, "platform");
        await using var model = await ScriptedModelServer.StartAsync(r => r.Step switch
        {
            0 => new ModelStep.ToolCall("list_team_agents", []),
            _ => new ModelStep.Text("Agents: " + r.Last!.Text),
        });
        var work = Directory.CreateTempSubdirectory("entourage-work-").FullName;
        var run = await AgentClis.CodexAsync("Check the team's capacity.", work, new Uri(server.BaseUrl, "/mcp"), team.ManagerToken, model.BaseUrl,
            TestContext.Current.CancellationToken);
        TestContext.Current.SendDiagnosticMessage("model requests logged in " + model.LogDirectory);
        run.ExitCode.ShouldBe(0, run.ToString() + "\nmodel log: " + model.LogDirectory);
        run.Stdout.ShouldContain("eng-backend", customMessage: run.ToString());
    }
}
