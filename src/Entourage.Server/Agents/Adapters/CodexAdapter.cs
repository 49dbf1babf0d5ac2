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
        List<string> args = ["exec", "--json", "--skip-git-repo-check", "--full-auto"];
        if (ctx.Agent.Model is { Length: > 0 } model && !model.StartsWith("claude", StringComparison.OrdinalIgnoreCase)) args.AddRange(["--model", model]);
        args.AddRange(["-c", $"mcp_servers.entourage.url=\"{ctx.ServerUrl.TrimEnd('/')}/mcp\""]);
        args.AddRange(["-c", "mcp_servers.entourage.bearer_token_env_var=\"ENTOURAGE_AGENT_TOKEN\""]);
        args.AddRange(AgentEnvironment.ExtraArgs(ctx.Config));
        args.Add(ctx.Prompt);
        return Task.FromResult(new LaunchSpec(ctx.Executable, args, ctx.Environment, null));
    }
}
