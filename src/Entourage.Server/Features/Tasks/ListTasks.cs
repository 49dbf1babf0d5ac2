using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Tasks;

/// <summary>GET /teams/{team_id}/tasks with filters: status (comma-separated), assignee (uuid, name or "none"), parent (id or "none"), ready.</summary>
public static class ListTasks
{
    public const int MaxLimit = 1000;

    public static async Task<List<TaskDto>> ExecuteAsync(AppDbContext db, Guid teamId, TaskListQuery query, CancellationToken ct, int limit = MaxLimit)
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
        if (limit is < 1 or > MaxLimit) errors.Add("limit", $"Between 1 and {MaxLimit}.");
        errors.ThrowIfAny();

        var tasks = await q.OrderBy(t => t.Id).Take(limit).ToListAsync(ct);
        var dtos = await TaskViews.ToDtosAsync(db, tasks, ct);
        return query.Ready is { } ready ? dtos.Where(t => t.Ready == ready).ToList() : dtos;
    }
}
