using System.Text.Json;
using System.Text.Json.Nodes;

namespace Entourage.Server.Agents.Adapters;

/// <summary>
/// Gemini CLI: <c>gemini -p PROMPT --output-format stream-json --yolo</c>. Gemini reads MCP servers from
/// <c>.gemini/settings.json</c> in its working tree's home, so the turn gets its own GEMINI_CLI_HOME-like
/// settings file naming this server's /mcp with the turn token.
/// </summary>
public sealed class GeminiAdapter : IAgentAdapter
{
    public string Name => "gemini";

    public IReadOnlyList<string> PassThroughEnvironment { get; } = ["GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_APPLICATION_CREDENTIALS", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"];

    public async Task<LaunchSpec> BuildAsync(LaunchContext ctx, CancellationToken ct)
    {
        var settingsDir = Path.Combine(ctx.TurnDirectory, ".gemini");
        Directory.CreateDirectory(settingsDir);
        var settings = new JsonObject
        {
            ["mcpServers"] = new JsonObject
            {
                ["entourage"] = new JsonObject
                {
                    ["httpUrl"] = ctx.ServerUrl.TrimEnd('/') + "/mcp",
                    ["headers"] = new JsonObject { ["Authorization"] = "Bearer " + ctx.Token },
                    ["trust"] = true,
                },
            },
        };
        await File.WriteAllTextAsync(Path.Combine(settingsDir, "settings.json"), settings.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), ct);

        List<string> args = ["-p", ctx.Prompt, "--output-format", "stream-json", "--yolo"];
        if (ctx.Agent.Model is { Length: > 0 } model && model.StartsWith("gemini", StringComparison.OrdinalIgnoreCase)) args.AddRange(["--model", model]);
        args.AddRange(AgentEnvironment.ExtraArgs(ctx.Config));
        var env = new Dictionary<string, string>(ctx.Environment) { ["GEMINI_CLI_HOME"] = ctx.TurnDirectory };
        return new LaunchSpec(ctx.Executable, args, env, null);
    }
}
