using Entourage.Client.Contracts;
using Entourage.Server.Features;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Mcp;

/// <summary>Keeps tools inside the caller's team and fills in "my current task" when a tool allows leaving it out.</summary>
public static class McpScope
{
    public static Actor Actor(this McpCaller caller) => Features.Actor.ForAgent(caller.Agent);

    /// <summary>
    /// Throws "not found" for a task of another team, exactly as for a missing one: an agent cannot learn that
    /// another team's task exists.
    /// </summary>
    public static async Task EnsureTaskInTeamAsync(this McpCaller caller, AppDbContext db, long taskId, CancellationToken ct)
    {
        var team = await db.Tasks.Where(t => t.Id == taskId).Select(t => (Guid?)t.TeamId).FirstOrDefaultAsync(ct);
        if (team != caller.TeamId)
            throw new ApiProblem(404, "Task not found", $"Your team has no task {taskId}. Call list_tasks to see your team's tasks and their ids.");
    }

    /// <summary>The given task (checked), or the caller's one active task when <paramref name="taskId"/> is null.</summary>
    public static async Task<long> ResolveTaskAsync(this McpCaller caller, AppDbContext db, long? taskId, CancellationToken ct)
    {
        if (taskId is { } id)
        {
            await caller.EnsureTaskInTeamAsync(db, id, ct);
            return id;
        }
        var mine = await db.Tasks.Where(t => t.AssigneeId == caller.AgentId && (t.Status == TaskState.InProgress || t.Status == TaskState.InReview))
            .OrderBy(t => t.Id).Select(t => t.Id).ToListAsync(ct);
        return mine.Count switch
        {
            1 => mine[0],
            0 => throw ApiProblem.Invalid("task_id", "You have no task in progress; pass task_id (see list_tasks with assignee set to your name)."),
            _ => throw ApiProblem.Invalid("task_id", $"You have several active tasks ({string.Join(", ", mine)}); pass task_id to say which."),
        };
    }
}
