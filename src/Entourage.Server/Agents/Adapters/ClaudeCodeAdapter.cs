using System.Text.Json;
using System.Text.Json.Nodes;

namespace Entourage.Server.Agents.Adapters;

/// <summary>
/// Claude Code: <c>claude -p --output-format stream-json --verbose --mcp-config FILE --strict-mcp-config
/// --allowedTools mcp__entourage</c>, prompt on stdin, resumed per agent and task with <c>--resume</c>. The MCP
/// config file points at this server's /mcp with the turn's own bearer token and lives only for the turn.
/// </summary>
public sealed class ClaudeCodeAdapter : IAgentAdapter
{
    public string Name => "claude-code";

    public bool ResumesSessions => true;

    public IReadOnlyList<string> PassThroughEnvironment { get; } =
        ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "CLAUDE_CONFIG_DIR", "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "AWS_REGION", "AWS_PROFILE", "CLOUD_ML_REGION", "ANTHROPIC_VERTEX_PROJECT_ID", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY",
         // Needed to run as root in containers, and to keep an offline CLI from phoning home or retrying for minutes.
         "IS_SANDBOX", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "CLAUDE_CODE_MAX_RETRIES", "DISABLE_AUTOUPDATER"];

    // In -p mode every tool not allowed is denied. Engineers must edit files, run tests and commit in their
    // worktree; the manager reads code but never writes it (the spec's role split).
    private const string EngineerTools = "mcp__entourage Bash Edit MultiEdit Write Read Glob Grep LS TodoWrite";
    private const string ManagerTools = "mcp__entourage Read Glob Grep LS";

    public async Task<LaunchSpec> BuildAsync(LaunchContext ctx, CancellationToken ct)
    {
        var mcpConfig = new JsonObject
        {
            ["mcpServers"] = new JsonObject
            {
                ["entourage"] = new JsonObject
                {
                    ["type"] = "http",
                    ["url"] = ctx.ServerUrl.TrimEnd('/') + "/mcp",
                    ["headers"] = new JsonObject { ["Authorization"] = "Bearer " + ctx.Token },
                },
            },
        };
        var path = Path.Combine(ctx.TurnDirectory, "mcp.json");
        await File.WriteAllTextAsync(path, mcpConfig.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), ct);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        List<string> args = ["-p", "--output-format", "stream-json", "--verbose", "--mcp-config", path, "--strict-mcp-config"];
        var allowed = AgentEnvironment.String(ctx.Config, "allowed_tools")
            ?? (ctx.Agent.Role == Entourage.Client.Contracts.AgentRole.Manager ? ManagerTools : EngineerTools);
        args.AddRange(["--allowedTools", allowed]);
        if (AgentEnvironment.String(ctx.Config, "permission_mode") is { } mode) args.AddRange(["--permission-mode", mode]);
        if (ctx.Agent.Model is { Length: > 0 } model) args.AddRange(["--model", model]);
        if (ctx.ResumeSessionId is { } session) args.AddRange(["--resume", session]);
        args.AddRange(AgentEnvironment.ExtraArgs(ctx.Config));

        var env = new Dictionary<string, string>(ctx.Environment);
        // Long wait_for_task_completion calls send progress, but never let the CLI's idle cut-off end a turn.
        env.TryAdd("CLAUDE_CODE_MCP_TOOL_IDLE_TIMEOUT", "0");
        return new LaunchSpec(ctx.Executable, args, env, ctx.Prompt);
    }
}
