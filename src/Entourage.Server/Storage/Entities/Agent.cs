using Entourage.Client.Contracts;

namespace Entourage.Server.Storage.Entities;

public sealed class Agent
{
    public Guid Id { get; set; }
    public Guid TeamId { get; set; }
    public required string Name { get; set; }
    public AgentRole Role { get; set; }
    public string? Model { get; set; }

    /// <summary>claude-code | codex | gemini | aider | command.</summary>
    public string Adapter { get; set; } = "claude-code";

    /// <summary>Free-form JSON object (description, command, args, env…).</summary>
    public string ConfigJson { get; set; } = "{}";

    /// <summary>SHA-256 of the agent's MCP bearer token; null when revoked.</summary>
    public string? TokenHash { get; set; }
    public string? TokenPrefix { get; set; }

    /// <summary>Placement: comma-joined labels a node needs (in addition to the team's) to run this agent.</summary>
    public string? RunnerLabels { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
