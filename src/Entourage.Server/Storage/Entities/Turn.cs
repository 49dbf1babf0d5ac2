using Entourage.Client.Contracts;

namespace Entourage.Server.Storage.Entities;

/// <summary>One run of an agent's CLI process. At most one running turn per agent (unique partial index).</summary>
public sealed class Turn
{
    public Guid Id { get; set; }
    public Guid AgentId { get; set; }
    public Guid TeamId { get; set; }
    public long? TaskId { get; set; }
    public TurnState State { get; set; } = TurnState.Running;
    public required string Node { get; set; }
    public int Attempt { get; set; } = 1;
    public DateTime StartedAt { get; set; }
    public DateTime? EndedAt { get; set; }
    public DateTime HeartbeatAt { get; set; }
    public DateTime LeaseUntil { get; set; }
    public int? ExitCode { get; set; }
    public string? Error { get; set; }
    public string? SessionId { get; set; }
    public string? WorkingDirectory { get; set; }
    public string Log { get; set; } = "";
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public long CacheReadTokens { get; set; }
    public long CacheWriteTokens { get; set; }
    public double CostUsd { get; set; }

    /// <summary>
    /// SHA-256 (hex, <c>AgentTokens.Hash</c>) of the per-turn bearer token the dispatcher minted for this run's
    /// MCP config and ENTOURAGE_AGENT_TOKEN. Valid only while the turn is running.
    /// </summary>
    public string? TokenHash { get; set; }
}
