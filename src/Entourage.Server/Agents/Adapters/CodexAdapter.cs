namespace Entourage.Server.Agents.Adapters;

/// <summary>
/// OpenAI Codex CLI: <c>codex exec --json</c> with the prompt as the last argument, the Entourage MCP server
/// passed as <c>-c mcp_servers.entourage.*</c> overrides. Usage comes from <c>turn.completed</c>, priced from
/// the configured price table.
/// </summary>
public sealed class CodexAdapter : IAgentAdapter
{
    public string Name => "codex";

    public IReadOnlyList<string> PassThroughEnvironment { get; } = ["OPENAI_API_KEY", "OPENAI_BASE_URL", "CODEX_HOME", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"];

    public Task<LaunchSpec> BuildAsync(LaunchContext ctx, CancellationToken ct)
    {
        List<string> args = ["exec", "--json", "--skip-git-repo-check"];
        // Codex 0.169 rejects --full-auto in exec mode. Its workspace-write sandbox also forbids writing the main
        // repository's .git/worktrees/…, so `git commit` in a task worktree fails under it: by default the agent
        // runs unsandboxed in its own worktree with an allow-listed environment; config.sandbox overrides that.
        if (AgentEnvironment.String(ctx.Config, "sandbox") is { } sandbox) args.AddRange(["--sandbox", sandbox]);
        else args.Add("--dangerously-bypass-approvals-and-sandbox");
        if (ctx.Agent.Model is { Length: > 0 } model && !model.StartsWith("claude", StringComparison.OrdinalIgnoreCase)) args.AddRange(["--model", model]);
        args.AddRange(["-c", $"mcp_servers.entourage.url=\"{ctx.ServerUrl.TrimEnd('/')}/mcp\""]);
        args.AddRange(["-c", "mcp_servers.entourage.bearer_token_env_var=\"ENTOURAGE_AGENT_TOKEN\""]);
        args.AddRange(AgentEnvironment.ExtraArgs(ctx.Config));
        args.Add(ctx.Prompt);
        return Task.FromResult(new LaunchSpec(ctx.Executable, args, ctx.Environment, null));
    }
}
