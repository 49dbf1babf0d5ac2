namespace Entourage.Server.Storage.Entities;

/// <summary>
/// A manager waiting on tasks (wait_for_task_completion). If the manager's turn ends first, the last of these
/// tasks reaching a terminal state enqueues a wait_complete dispatch request so the manager is woken with results.
/// </summary>
public sealed class TaskWait
{
    public long Id { get; set; }
    public Guid AgentId { get; set; }
    public Guid TeamId { get; set; }
    public required string TaskIdsJson { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? CompletedAt { get; set; }
}
