using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// PATCH /tasks/{task_id}: edits fields; <c>depends_on</c> replaces the dependency list (todo tasks only, since a
/// started task's order is history) and is checked for self-edges, other teams' tasks and cycles.
/// </summary>
public static class UpdateTask
{
    public static async Task<TaskDto> ExecuteAsync(AppDbContext db, long taskId, UpdateTaskRequest request, Actor actor, TimeProvider clock, CancellationToken ct)
    {
        var teamId = await TaskLoad.TeamOfAsync(db, taskId, ct);
        await using (var tx = await TaskTransaction.BeginAsync(db, teamId, ct))
        {
            var task = await TaskLoad.ForUpdateAsync(db, taskId, ct);
            var errors = new ValidationErrors();
            TaskRules.CheckTitle(errors, "title", request.Title, required: false);
            TaskRules.CheckDescription(errors, "description", request.Description);
            var priority = TaskRules.ParseEnum<TaskPriority>(errors, "priority", request.Priority);
            var type = TaskRules.ParseEnum<TaskType>(errors, "task_type", request.TaskType);
            if (request.ParentId is { IsSet: true, Value: { } parent }) await CheckParentAsync(db, task, parent, errors, ct);
            List<long>? newDeps = null;
            if (request.DependsOn is not null)
            {
                newDeps = request.DependsOn.Distinct().Order().ToList();
                await CheckDependenciesAsync(db, task, newDeps, errors, ct);
            }
            errors.ThrowIfAny();

            var now = clock.GetUtcNow().UtcDateTime;
            var changed = new List<string>();
            if (request.Title is not null && request.Title.Trim() != task.Title) { task.Title = request.Title.Trim(); changed.Add("title"); }
            if (request.Description is not null && request.Description != task.Description) { task.Description = request.Description; changed.Add("description"); }
            if (priority is { } p && p != task.Priority) { task.Priority = p; changed.Add("priority"); }
            if (type is { } ty && ty != task.TaskType) { task.TaskType = ty; changed.Add("task_type"); }
            // Set, even to null (out of its parent): only an absent parent_id leaves it as it is.
            if (request.ParentId is { IsSet: true, Value: var pid } && pid != task.ParentId) { task.ParentId = pid; changed.Add("parent_id"); }
            if (changed.Count > 0) TaskTimeline.Add(db, task.Id, teamId, "updated", actor, now, data: new { Fields = changed });

            var depsChanged = false;
            if (newDeps is not null)
            {
                var current = await db.TaskDependencies.Where(d => d.TaskId == task.Id).ToListAsync(ct);
                foreach (var gone in current.Where(d => !newDeps.Contains(d.DependsOnId)))
                {
                    db.TaskDependencies.Remove(gone);
                    TaskTimeline.Add(db, task.Id, teamId, "dependency_removed", actor, now, data: new { DependsOn = gone.DependsOnId });
                    depsChanged = true;
                }
                foreach (var added in newDeps.Where(d => current.All(c => c.DependsOnId != d)))
                {
                    db.TaskDependencies.Add(new TaskDependency { TaskId = task.Id, DependsOnId = added });
                    TaskTimeline.Add(db, task.Id, teamId, "dependency_added", actor, now, data: new { DependsOn = added });
                    depsChanged = true;
                }
            }
            if (changed.Count > 0 || depsChanged)
            {
                task.UpdatedAt = now;
                await db.SaveChangesAsync(ct);
                // Dropping the last unfinished dependency makes the task ready.
                if (depsChanged) await DagEffects.EnqueueIfReadyAsync(db, task, actor, now, toManagerIfUnassigned: false, ct);
                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
            }
        }
        return await TaskViews.GetAsync(db, taskId, ct);
    }

    private static async Task CheckParentAsync(AppDbContext db, TaskItem task, long parentId, ValidationErrors errors, CancellationToken ct)
    {
        if (parentId == task.Id) { errors.Add("parent_id", "A task cannot be its own parent."); return; }
        var parents = await db.Tasks.AsNoTracking().Where(t => t.TeamId == task.TeamId).Select(t => new { t.Id, t.ParentId }).ToDictionaryAsync(t => t.Id, t => t.ParentId, ct);
        if (!parents.ContainsKey(parentId)) { errors.Add("parent_id", $"Task {parentId} does not exist in this team."); return; }
        // Walking up from the new parent must not come back to this task.
        for (long? p = parentId; p is { } cur; p = parents.GetValueOrDefault(cur))
        {
            if (cur == task.Id) { errors.Add("parent_id", $"Task {parentId} is a descendant of task {task.Id}; the parent chain would loop."); return; }
        }
    }

    private static async Task CheckDependenciesAsync(AppDbContext db, TaskItem task, List<long> deps, ValidationErrors errors, CancellationToken ct)
    {
        if (task.Status is not (TaskState.Todo or TaskState.Proposed))
        {
            errors.Add("depends_on", $"Task {task.Id} is {EnumNames.ToSnake(task.Status)}; dependencies can only change while it is todo.");
            return;
        }
        if (deps.Count > TaskRules.MaxDependencies) errors.Add("depends_on", $"At most {TaskRules.MaxDependencies} dependencies per task.");
        if (deps.Contains(task.Id)) errors.Add("depends_on", $"A task cannot depend on itself (task {task.Id}).");
        var found = await db.Tasks.AsNoTracking().Where(t => deps.Contains(t.Id)).Select(t => new { t.Id, t.TeamId }).ToListAsync(ct);
        foreach (var d in deps.Where(d => d != task.Id))
        {
            var t = found.FirstOrDefault(x => x.Id == d);
            if (t is null) errors.Add("depends_on", $"Task {d} does not exist.");
            else if (t.TeamId != task.TeamId) errors.Add("depends_on", $"Task {d} belongs to another team; dependencies must be tasks of the same team.");
        }
        if (errors.Any) return;

        // A new edge task → d closes a cycle exactly when d already (transitively) depends on task.
        var edges = await (from e in db.TaskDependencies
                           join t in db.Tasks on e.TaskId equals t.Id
                           where t.TeamId == task.TeamId
                           select new { e.TaskId, e.DependsOnId }).ToListAsync(ct);
        var byTask = edges.Where(e => e.TaskId != task.Id).GroupBy(e => e.TaskId).ToDictionary(g => g.Key, g => g.Select(e => e.DependsOnId).ToList());
        foreach (var d in deps.Where(d => TaskGraph.Reaches(d, task.Id, n => byTask.GetValueOrDefault(n) ?? [])))
            errors.Add("depends_on", $"Task {d} already depends (directly or through others) on task {task.Id}; this edge would make a cycle.");
    }
}
