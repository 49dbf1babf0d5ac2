using Entourage.Client.Contracts;

namespace Entourage.Server.Storage.Entities;

/// <summary>A task of the DAG. Named TaskItem so it never collides with System.Threading.Tasks.Task.</summary>
public sealed class TaskItem
{
    public long Id { get; set; }
    public Guid TeamId { get; set; }
    public long? ParentId { get; set; }

    /// <summary>The proposed plan this task came with (team setting require_plan_approval); null otherwise.</summary>
    public long? PlanId { get; set; }
    public required string Title { get; set; }
    public string Description { get; set; } = "";
    public TaskPriority Priority { get; set; } = TaskPriority.Medium;
    public TaskType TaskType { get; set; } = TaskType.Feature;
    public TaskState Status { get; set; } = TaskState.Todo;
    public Guid? AssigneeId { get; set; }
    public Guid? CreatedByAgentId { get; set; }
    public int Attempts { get; set; }
    public int MaxAttempts { get; set; } = 3;
    public string? FailureReason { get; set; }
    public string? Branch { get; set; }
    public string? WorktreePath { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? CompletedAt { get; set; }

    /// <summary>Optimistic concurrency: every write bumps it, so two racing transitions cannot both win.</summary>
    public long Version { get; set; }
}
