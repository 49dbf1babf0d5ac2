namespace Entourage.Server.Storage.Entities;

/// <summary>Tokens and cost of one turn (or one report_progress call), the source of GET /teams/{id}/costs.</summary>
public sealed class UsageRecord
{
    public long Id { get; set; }
    public Guid TeamId { get; set; }
    public Guid AgentId { get; set; }
    public long? TaskId { get; set; }
    public Guid? TurnId { get; set; }
    public string? Model { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public long CacheReadTokens { get; set; }
    public long CacheWriteTokens { get; set; }
    public double CostUsd { get; set; }

    /// <summary>UTC day the cost counts against (daily_cost_limit_usd).</summary>
    public DateOnly Day { get; set; }
    public DateTime CreatedAt { get; set; }
}
