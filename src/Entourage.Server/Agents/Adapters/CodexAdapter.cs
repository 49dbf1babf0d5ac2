using System.Globalization;

namespace Entourage.Server.Agents.Adapters;

/// <summary>
/// OpenAI Codex CLI: <c>codex exec --json -</c> with the prompt on stdin (no argv length limit, not visible in
/// <c>ps</c>) and this server's /mcp passed as <c>-c mcp_servers.entourage.*</c> overrides, the turn's token read
/// from ENTOURAGE_AGENT_TOKEN so it never appears on a command line. Usage comes from <c>turn.completed</c>,
/// priced from the configured price table. The agent's next turn on the same task continues its thread
/// (<c>codex exec resume THREAD_ID -</c>; the id is the one <c>thread.started</c> reported).
/// </summary>
public sealed class CodexAdapter : IAgentAdapter
{
    /// <summary>The longest an MCP call of ours may block (wait_for_task_completion, ask_human), plus a margin.</summary>
    private static readonly int ToolTimeoutSeconds = Mcp.Tools.HumanTools.MaxWaitSeconds + 60;

    /// <summary>Our server's name in Codex's mcp_servers: its tools reach the model as mcp__entourage__*.</summary>
    public const string ServerName = "entourage";

    public string Name => "codex";

    public bool ResumesSessions => true;

    public IReadOnlyList<string> PassThroughEnvironment { get; } = ["OPENAI_API_KEY", "OPENAI_BASE_URL", "CODEX_API_KEY", "CODEX_HOME", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"];

    public async Task<LaunchSpec> BuildAsync(LaunchContext ctx, CancellationToken ct)
    {
        // `exec resume` takes the same options as `exec` (all after the subcommand), except --sandbox.
        var resume = ctx.ResumeSessionId;
        List<string> args = resume is null ? ["exec", "--json", "--skip-git-repo-check"] : ["exec", "resume", "--json", "--skip-git-repo-check"];
        // Codex 0.169 rejects --full-auto in exec mode. Its workspace-write sandbox keeps every .git path read-only
        // (even one named as a writable root), so `git commit` in a task worktree fails under it: by default the
        // agent runs unsandboxed in its own worktree with an allow-listed environment; config.sandbox
        // ("workspace-write", "read-only") overrides that, still never stopping to ask for an approval nobody
        // can give in exec mode.
        if (AgentEnvironment.String(ctx.Config, "sandbox") is { } sandbox)
            args.AddRange(resume is null
                ? ["--sandbox", sandbox, "-c", "approval_policy=\"never\""]
                : ["-c", $"sandbox_mode=\"{sandbox}\"", "-c", "approval_policy=\"never\""]);
        else args.Add("--dangerously-bypass-approvals-and-sandbox");
        if (ctx.Agent.Model is { Length: > 0 } model && !model.StartsWith("claude", StringComparison.OrdinalIgnoreCase)) args.AddRange(["--model", model]);
        // Exactly our MCP tools, like Claude Code's --strict-mcp-config: the user's own servers are turned off
        // (config.user_mcp_servers=true keeps them). Overrides merge into the user's config, so if it already has
        // an "entourage" server (say `entourage mcp` over stdio) ours takes another name rather than mixing a url
        // into its command, which Codex would refuse.
        var userServers = await CodexUserMcpServers.FindAsync(CodexUserMcpServers.UserConfigFile(ctx.Environment), ct);
        var name = ServerName;
        for (var n = 2; userServers.Contains(name); n++) name = ServerName + "_" + n.ToString(CultureInfo.InvariantCulture);
        foreach (var setting in McpSettings(ctx.ServerUrl, name)) args.AddRange(["-c", setting]);
        if (ctx.Config["user_mcp_servers"]?.GetValueKind() != System.Text.Json.JsonValueKind.True)
            foreach (var other in userServers) args.AddRange(["-c", $"mcp_servers.{other}.enabled=false"]);
        // Without this Codex retries an unreachable model endpoint forever ("Reconnecting... waiting for
        // network"), holding the agent's lease; a failed turn is retried by the dispatcher instead.
        args.AddRange(["-c", "features.unbounded_connection_retries=false"]);
        args.AddRange(AgentEnvironment.ExtraArgs(ctx.Config));
        if (resume is not null) args.Add(resume);
        args.Add("-");
        return new LaunchSpec(ctx.Executable, args, ctx.Environment, ctx.Prompt);
    }

    /// <summary>
    /// Our MCP server as Codex config overrides (TOML values). <c>required</c> matters: Codex starts MCP servers
    /// alongside the turn and gives an optional one only a one-second grace before the first model request, so a
    /// server still handshaking is silently left out of that turn's tools; a required one is waited for (up to
    /// <c>startup_timeout_sec</c>) and a failure ends the exec with an error instead of a turn without our tools.
    /// <c>default_tools_approval_mode = "approve"</c> runs our tools without an approval prompt under any sandbox.
    /// </summary>
    public static IReadOnlyList<string> McpSettings(string serverUrl, string name = ServerName) =>
    [
        $"mcp_servers.{name}.url=\"{serverUrl.TrimEnd('/')}/mcp\"",
        $"mcp_servers.{name}.bearer_token_env_var=\"ENTOURAGE_AGENT_TOKEN\"",
        $"mcp_servers.{name}.required=true",
        $"mcp_servers.{name}.startup_timeout_sec=60",
        $"mcp_servers.{name}.tool_timeout_sec=" + ToolTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
        $"mcp_servers.{name}.default_tools_approval_mode=\"approve\"",
    ];
}
