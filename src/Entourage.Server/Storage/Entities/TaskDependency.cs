namespace Entourage.Server.Storage.Entities;

/// <summary>Edge of the DAG: <see cref="TaskId"/> waits for <see cref="DependsOnId"/>.</summary>
public sealed class TaskDependency
{
    public long TaskId { get; set; }
    public long DependsOnId { get; set; }
}
