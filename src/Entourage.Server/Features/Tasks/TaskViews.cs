using System.Data.Common;
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
        await TaskLoad.Row.For(db)(db, taskId, ct) ?? throw ApiProblem.NotFound("task", taskId);

    public static async Task<TaskDto> GetAsync(AppDbContext db, long taskId, CancellationToken ct) =>
        (await ToDtosAsync(db, [await FindAsync(db, taskId, ct)], ct))[0];

    public static async Task<List<TaskDto>> ToDtosAsync(AppDbContext db, IReadOnlyList<TaskItem> tasks, CancellationToken ct)
    {
        if (tasks.Count == 0) return [];
        if (tasks.Count == 1) return [await ToDtoAsync(db, tasks[0], ct)];
        var ids = tasks.Select(t => t.Id).Distinct().ToList();
        var deps = await (from d in db.TaskDependencies
                          join t in db.Tasks on d.DependsOnId equals t.Id
                          where ids.Contains(d.TaskId)
                          select new { d.TaskId, d.DependsOnId, t.Status }).ToListAsync(ct);
        var dependents = await db.TaskDependencies.Where(d => ids.Contains(d.DependsOnId))
            .Select(d => new { d.TaskId, d.DependsOnId }).ToListAsync(ct);
        var agentIds = tasks.Where(t => t.AssigneeId is not null).Select(t => t.AssigneeId!.Value).Distinct().ToList();
        var names = agentIds.Count == 0 ? [] : await db.Agents.Where(a => agentIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);

        var depsBy = deps.GroupBy(d => d.TaskId).ToDictionary(g => g.Key, g => g.OrderBy(d => d.DependsOnId).Select(d => new Dep(d.DependsOnId, d.Status)).ToList());
        var dependentsBy = dependents.GroupBy(d => d.DependsOnId).ToDictionary(g => g.Key, g => g.Select(d => d.TaskId).Order().ToList());
        return tasks.Select(t => Build(t, depsBy.GetValueOrDefault(t.Id) ?? [], dependentsBy.GetValueOrDefault(t.Id) ?? [],
            t.AssigneeId is { } a ? names.GetValueOrDefault(a) : null)).ToList();
    }

    /// <summary>
    /// One task (a created task, GET /tasks/{id}): its edges and assignee's name in one plain command
    /// (<see cref="EdgesSql"/>), not three EF queries.
    /// </summary>
    private static Task<TaskDto> ToDtoAsync(AppDbContext db, TaskItem task, CancellationToken ct) =>
        db.OnOpenConnectionAsync(async () =>
        {
            await using var cmd = db.Command(EdgesSql).With("id", task.Id);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            return ToDto(task, await ReadEdgesAsync(r, ct));
        }, ct);

    /// <summary>
    /// What a task's answer needs besides its row: its dependencies with their states, its dependents, its
    /// assignee's name. A statement of its own, so a status change can read it in the batch that reads the task
    /// (<see cref="TaskLoad"/>): its answer is then built without a query after the commit, while the dispatcher
    /// claims the turn the change caused on the same two cores. The change itself alters none of these.
    /// </summary>
    internal const string EdgesSql = """
        SELECT 0, d.depends_on_id, t.status, NULL FROM task_dependencies d JOIN tasks t ON t.id = d.depends_on_id WHERE d.task_id = @id
        UNION ALL SELECT 1, d.task_id, NULL, NULL FROM task_dependencies d WHERE d.depends_on_id = @id
        UNION ALL SELECT 2, 0, NULL, a.name FROM agents a WHERE a.id = (SELECT k.assignee_id FROM tasks k WHERE k.id = @id)
        """;

    /// <summary>The result of <see cref="EdgesSql"/>, the reader positioned on it.</summary>
    internal sealed record Edges(List<Dep> Deps, List<long> Dependents, string? AssigneeName);

    internal static async Task<Edges> ReadEdgesAsync(DbDataReader r, CancellationToken ct)
    {
        var deps = new List<Dep>();
        var dependents = new List<long>();
        string? name = null;
        while (await r.ReadAsync(ct))
        {
            switch (r.GetInt32(0))
            {
                case 0: deps.Add(new Dep(r.GetInt64(1), EnumNames.Parse<TaskState>(r.GetString(2)))); break;
                case 1: dependents.Add(r.GetInt64(1)); break;
                default: name = r.GetString(3); break;
            }
        }
        return new Edges([.. deps.OrderBy(d => d.DependsOnId)], [.. dependents.Order()], name);
    }

    /// <summary>The answer for a task row and its <see cref="Edges"/>, read in the same transaction.</summary>
    internal static TaskDto ToDto(TaskItem task, Edges edges) => Build(task, edges.Deps, edges.Dependents, edges.AssigneeName);

    internal sealed record Dep(long DependsOnId, TaskState Status);

    /// <summary><paramref name="deps"/> and <paramref name="dependents"/> ordered by id.</summary>
    private static TaskDto Build(TaskItem t, List<Dep> deps, List<long> dependents, string? assigneeName)
    {
        var blockedBy = deps.Where(d => d.Status != TaskState.Done).Select(d => d.DependsOnId).ToList();
        var blockedByFailed = deps.Where(d => TaskRules.IsFailedEnd(d.Status)).Select(d => d.DependsOnId).ToList();
        var ready = t.Status == TaskState.Todo && blockedBy.Count == 0 && t.AssigneeId is not null;
        return new TaskDto(t.Id, t.TeamId, t.ParentId, t.Title, t.Description, t.Priority, t.TaskType, t.Status,
            t.AssigneeId, assigneeName, deps.Select(d => d.DependsOnId).ToList(), dependents,
            ready, blockedBy, blockedByFailed, t.Attempts, t.FailureReason, t.Branch, t.WorktreePath, t.CreatedByAgentId,
            t.CreatedAt, t.UpdatedAt, t.StartedAt, t.CompletedAt, t.Version);
    }
}
