namespace Entourage.Server.Agents.Adapters;

/// <summary>
/// Aider: <c>aider --message PROMPT --yes --no-pretty</c>. Aider has no MCP client; it edits files in the
/// worktree, and the prompt tells it how to report back through the REST API (ENTOURAGE_URL + token).
/// Cost is read from its "Cost: $X message" line.
/// </summary>
public sealed class AiderAdapter : IAgentAdapter
{
    public string Name => "aider";

    public IReadOnlyList<string> PassThroughEnvironment { get; } = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY", "AIDER_MODEL", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"];

    public Task<LaunchSpec> BuildAsync(LaunchContext ctx, CancellationToken ct)
    {
        List<string> args = ["--message", ctx.Prompt, "--yes", "--no-pretty", "--no-stream", "--no-auto-commits"];
        if (ctx.Agent.Model is { Length: > 0 } model) args.AddRange(["--model", model]);
        args.AddRange(AgentEnvironment.ExtraArgs(ctx.Config));
        return Task.FromResult(new LaunchSpec(ctx.Executable, args, ctx.Environment, null));
    }
}
