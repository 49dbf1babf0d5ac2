using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// GET /teams/{team_id}/tasks with filters: status (comma-separated), assignee (uuid, name or "none"), parent (id or
/// "none"), ready; in id order, a page at a time (<c>after</c> the last id seen, at most <c>limit</c>).
/// </summary>
public static class ListTasks
{
    public const int MaxLimit = 1000;

    /// <summary>One page: the tasks, and the <c>after</c> that gives the next page (null on the last one).</summary>
    public sealed record Page(List<TaskDto> Tasks, long? NextAfter);

    public static async Task<List<TaskDto>> ExecuteAsync(AppDbContext db, Guid teamId, TaskListQuery query, CancellationToken ct, int limit = MaxLimit) =>
        (await PageAsync(db, teamId, query, limit, ct)).Tasks;

    public static async Task<Page> PageAsync(AppDbContext db, Guid teamId, TaskListQuery query, int limit, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var q = db.Tasks.AsNoTracking().Where(t => t.TeamId == teamId);
        if (!string.IsNullOrWhiteSpace(query.Status))
        {
            var states = new List<TaskState>();
            foreach (var s in query.Status.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (TaskRules.ParseEnum<TaskState>(errors, "status", s) is { } st) states.Add(st);
            q = q.Where(t => states.Contains(t.Status));
        }
        if (!string.IsNullOrWhiteSpace(query.Assignee))
        {
            if (query.Assignee.Trim() is "none" or "unassigned") q = q.Where(t => t.AssigneeId == null);
            else
            {
                var found = await AgentLookup.ResolveInTeamAsync(db, teamId, [query.Assignee], ct);
                if (found.TryGetValue(query.Assignee.Trim(), out var agent)) q = q.Where(t => t.AssigneeId == agent.Id);
                else errors.Add("assignee", AgentLookup.UnknownMessage(query.Assignee));
            }
        }
        if (!string.IsNullOrWhiteSpace(query.Parent))
        {
            if (query.Parent.Trim() is "none" or "root") q = q.Where(t => t.ParentId == null);
            else if (long.TryParse(query.Parent, out var parent)) q = q.Where(t => t.ParentId == parent);
            else errors.Add("parent", "Give a task id, or \"none\" for top-level tasks.");
        }
        // In the query, not on the page read: filtered afterwards, a page of "ready" tasks came back short or empty
        // while later ones were ready. Ready as TaskViews builds it: todo, assigned, no dependency other than done.
        if (query.Ready is { } ready)
        {
            var readyIds = q.Where(t => t.Status == TaskState.Todo && t.AssigneeId != null
                                        && !db.TaskDependencies.Any(d => d.TaskId == t.Id && db.Tasks.Any(x => x.Id == d.DependsOnId && x.Status != TaskState.Done)))
                .Select(t => t.Id);
            q = ready ? q.Where(t => readyIds.Contains(t.Id)) : q.Where(t => !readyIds.Contains(t.Id));
        }
        if (query.After is { } after) q = q.Where(t => t.Id > after);
        if (limit is < 1 or > MaxLimit) errors.Add("limit", $"Between 1 and {MaxLimit}.");
        errors.ThrowIfAny();

        // One more than the page, to know whether another follows.
        var tasks = await q.OrderBy(t => t.Id).Take(limit + 1).ToListAsync(ct);
        var more = tasks.Count > limit;
        if (more) tasks.RemoveAt(limit);
        return new Page(await TaskViews.ToDtosAsync(db, tasks, ct), more ? tasks[^1].Id : null);
    }
}
