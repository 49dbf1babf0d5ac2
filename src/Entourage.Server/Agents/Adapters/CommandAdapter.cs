namespace Entourage.Server.Agents.Adapters;

/// <summary>
/// Any executable (<c>config.command</c>, with <c>config.args</c>): the prompt on stdin, the ENTOURAGE_* variables
/// in its environment. Output lines in Claude's stream-json format are understood (usage, cost, session).
/// </summary>
public sealed class CommandAdapter : IAgentAdapter
{
    public string Name => "command";

    public IReadOnlyList<string> PassThroughEnvironment { get; } = [];

    public Task<LaunchSpec> BuildAsync(LaunchContext ctx, CancellationToken ct) =>
        Task.FromResult(new LaunchSpec(ctx.Executable, AgentEnvironment.ExtraArgs(ctx.Config), ctx.Environment, ctx.Prompt));
}
