using System.Text.Json.Nodes;
using Entourage.Server.Storage.Entities;

namespace Entourage.Server.Agents.Adapters;

/// <summary>Everything an adapter needs to build one agent process launch.</summary>
public sealed record LaunchContext(
    Agent Agent,
    JsonObject Config,
    string Executable,
    string WorkingDirectory,
    string Prompt,
    string ServerUrl,
    string Token,
    string TurnDirectory,
    string? ResumeSessionId,
    IReadOnlyDictionary<string, string> Environment);

/// <summary>A process to start: executable, argument list (never a shell string), env, and the prompt on stdin or not.</summary>
public sealed record LaunchSpec(
    string FileName,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string> Environment,
    string? Stdin);

/// <summary>An agent CLI (DESIGN §5). Adapters are stateless; one per name.</summary>
public interface IAgentAdapter
{
    string Name { get; }

    /// <summary>Host environment variables this CLI needs besides the common allow-list (API keys, config dirs).</summary>
    IReadOnlyList<string> PassThroughEnvironment { get; }

    /// <summary>
    /// Continues the conversation of the agent's previous turn on the same task (<see cref="LaunchContext.ResumeSessionId"/>)
    /// instead of starting over, so the model keeps what it read and did.
    /// </summary>
    bool ResumesSessions => false;

    Task<LaunchSpec> BuildAsync(LaunchContext ctx, CancellationToken ct);
}
