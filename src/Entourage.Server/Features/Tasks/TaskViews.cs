using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// Builds <see cref="TaskDto"/>s with their edges and readiness in a fixed number of queries, whatever the count.
/// Readiness is derived from the stored states every time, never stored, so it cannot drift.
/// </summary>
public static class TaskViews
{
    public static async Task<TaskItem> FindAsync(AppDbContext db, long taskId, CancellationToken ct) =>
        await db.Tasks.FirstOrDefaultAsync(t => t.Id == taskId, ct) ?? throw ApiProblem.NotFound("task", taskId);

    public static async Task<TaskDto> GetAsync(AppDbContext db, long taskId, CancellationToken ct) =>
        (await ToDtosAsync(db, [await FindAsync(db, taskId, ct)], ct))[0];

    public static async Task<List<TaskDto>> ToDtosAsync(AppDbContext db, IReadOnlyList<TaskItem> tasks, CancellationToken ct)
    {
        if (tasks.Count == 0) return [];
        var ids = tasks.Select(t => t.Id).Distinct().ToList();
        var deps = await (from d in db.TaskDependencies
                          join t in db.Tasks on d.DependsOnId equals t.Id
                          where ids.Contains(d.TaskId)
                          select new { d.TaskId, d.DependsOnId, t.Status }).ToListAsync(ct);
        var dependents = await db.TaskDependencies.Where(d => ids.Contains(d.DependsOnId))
            .Select(d => new { d.TaskId, d.DependsOnId }).ToListAsync(ct);
        var agentIds = tasks.Where(t => t.AssigneeId is not null).Select(t => t.AssigneeId!.Value).Distinct().ToList();
        var names = agentIds.Count == 0 ? [] : await db.Agents.Where(a => agentIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);

        var depsBy = deps.GroupBy(d => d.TaskId).ToDictionary(g => g.Key, g => g.OrderBy(d => d.DependsOnId).ToList());
        var dependentsBy = dependents.GroupBy(d => d.DependsOnId).ToDictionary(g => g.Key, g => g.Select(d => d.TaskId).Order().ToList());
        return tasks.Select(t =>
        {
            var mine = depsBy.GetValueOrDefault(t.Id) ?? [];
            var blockedBy = mine.Where(d => d.Status != TaskState.Done).Select(d => d.DependsOnId).ToList();
            var blockedByFailed = mine.Where(d => TaskRules.IsFailedEnd(d.Status)).Select(d => d.DependsOnId).ToList();
            var ready = t.Status == TaskState.Todo && blockedBy.Count == 0 && t.AssigneeId is not null;
            return new TaskDto(t.Id, t.TeamId, t.ParentId, t.Title, t.Description, t.Priority, t.TaskType, t.Status,
                t.AssigneeId, t.AssigneeId is { } a ? names.GetValueOrDefault(a) : null,
                mine.Select(d => d.DependsOnId).ToList(), dependentsBy.GetValueOrDefault(t.Id) ?? [],
                ready, blockedBy, blockedByFailed, t.Attempts, t.FailureReason, t.Branch, t.WorktreePath, t.CreatedByAgentId,
                t.CreatedAt, t.UpdatedAt, t.StartedAt, t.CompletedAt, t.Version);
        }).ToList();
    }
}
