using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// POST /teams/{team_id}/tasks/batch (and, as a batch of one, POST /teams/{team_id}/tasks). Every item is
/// validated before anything is written; one 422 names every bad item by index and field; then all tasks,
/// edges, timeline entries and dispatch requests commit in one transaction.
/// </summary>
public static class CreateTasksBatch
{
    public static async Task<CreateTasksBatchResponse> ExecuteAsync(AppDbContext db, Guid teamId, CreateTasksBatchRequest request, Actor actor, TimeProvider clock, CancellationToken ct)
    {
        if (request.Tasks is null || request.Tasks.Count == 0)
            throw ApiProblem.Invalid("tasks", "Required: give a non-empty array of tasks, each with at least a title.");
        if (request.Tasks.Count > TaskRules.MaxBatch)
            throw ApiProblem.Invalid("tasks", $"At most {TaskRules.MaxBatch} tasks per batch (got {request.Tasks.Count}); split it into several batches.");
        var created = await CreateManyAsync(db, teamId, request.Tasks, i => $"tasks[{i}].", actor, clock, ct);
        return new CreateTasksBatchResponse(await TaskViews.ToDtosAsync(db, created, ct));
    }

    internal static async Task<List<TaskItem>> CreateManyAsync(AppDbContext db, Guid teamId, IReadOnlyList<BatchTaskItem> items,
        Func<int, string> field, Actor actor, TimeProvider clock, CancellationToken ct)
    {
        if (!await db.Teams.AnyAsync(t => t.Id == teamId, ct)) throw ApiProblem.NotFound("team", teamId);
        await using var tx = await TaskTransaction.BeginAsync(db, teamId, ct);
        var now = clock.GetUtcNow().UtcDateTime;

        // Everything the items refer to, in three queries whatever the batch size.
        var agents = await AgentLookup.ResolveInTeamAsync(db, teamId, items.Select(i => i?.AssigneeId ?? ""), ct);
        var referenced = items.SelectMany(i => (i?.DependsOn ?? []).Concat(i?.ParentId is { } p ? [p] : Array.Empty<long>())).Distinct().ToList();
        var existing = await db.Tasks.AsNoTracking().Where(t => referenced.Contains(t.Id))
            .Select(t => new { t.Id, t.TeamId, t.Status }).ToDictionaryAsync(t => t.Id, ct);

        var errors = new ValidationErrors();
        var drafts = new List<(BatchTaskItem Item, TaskPriority Priority, TaskType Type, Agent? Assignee, List<long> Deps, List<int> Indices)>();
        for (var i = 0; i < items.Count; i++)
        {
            var f = field(i);
            var item = items[i];
            if (item is null)
            {
                errors.Add(f.TrimEnd('.'), "Must be an object with at least a title.");
                drafts.Add((new BatchTaskItem(null), default, default, null, [], []));
                continue;
            }
            TaskRules.CheckTitle(errors, f + "title", item.Title, required: true);
            TaskRules.CheckDescription(errors, f + "description", item.Description);
            var priority = TaskRules.ParseEnum<TaskPriority>(errors, f + "priority", item.Priority) ?? TaskPriority.Medium;
            var type = TaskRules.ParseEnum<TaskType>(errors, f + "task_type", item.TaskType) ?? TaskType.Feature;
            Agent? assignee = null;
            if (!string.IsNullOrWhiteSpace(item.AssigneeId) && !agents.TryGetValue(item.AssigneeId.Trim(), out assignee))
                errors.Add(f + "assignee_id", AgentLookup.UnknownMessage(item.AssigneeId));
            else if (item.AssigneeId is { } a && a.Trim().Length == 0)
                errors.Add(f + "assignee_id", "Must not be empty: omit it to leave the task unassigned.");

            var deps = (item.DependsOn ?? []).Distinct().ToList();
            if (deps.Count + (item.DependsOnIndices?.Count ?? 0) > TaskRules.MaxDependencies)
                errors.Add(f + "depends_on", $"At most {TaskRules.MaxDependencies} dependencies per task.");
            foreach (var d in deps)
            {
                if (!existing.TryGetValue(d, out var t))
                    errors.Add(f + "depends_on", $"Task {d} does not exist. Use ids from GET /api/v1/teams/{{team_id}}/tasks, or depends_on_indices for items of this batch.");
                else if (t.TeamId != teamId)
                    errors.Add(f + "depends_on", $"Task {d} belongs to another team; dependencies must be tasks of the same team.");
            }
            var indices = (item.DependsOnIndices ?? []).Distinct().ToList();
            foreach (var x in indices)
            {
                if (x < 0 || x >= items.Count)
                    errors.Add(f + "depends_on_indices", $"Index {x} is out of range: this batch has items 0 to {items.Count - 1}.");
                else if (x == i)
                    errors.Add(f + "depends_on_indices", $"A task cannot depend on itself (index {i}).");
            }
            if (item.ParentId is { } parent)
            {
                if (!existing.TryGetValue(parent, out var pt))
                    errors.Add(f + "parent_id", $"Task {parent} does not exist.");
                else if (pt.TeamId != teamId)
                    errors.Add(f + "parent_id", $"Task {parent} belongs to another team.");
            }
            drafts.Add((item, priority, type, assignee, deps, indices.Where(x => x >= 0 && x < items.Count && x != i).ToList()));
        }

        // Existing tasks cannot depend on new ones, so a cycle can only run through depends_on_indices.
        var cycle = TaskGraph.CycleMembers(items.Count, drafts.Select(d => (IReadOnlyList<int>)d.Indices).ToList());
        foreach (var i in cycle)
        {
            var members = string.Join(", ", cycle);
            errors.Add(field(i) + "depends_on_indices", $"Dependency cycle among items {members}: tasks would wait for each other forever. Remove one of these edges.");
        }
        try { errors.ThrowIfAny(); }
        catch (ApiProblem p) when (items.Count > 1)
        {
            throw new ApiProblem(p.Status, p.Title, "No task was created (a batch is all or nothing); fix these items and send it again. " + p.Detail, p.Errors);
        }

        var tasks = drafts.Select(d => new TaskItem
        {
            TeamId = teamId,
            ParentId = d.Item.ParentId,
            Title = d.Item.Title!.Trim(),
            Description = d.Item.Description ?? "",
            Priority = d.Priority,
            TaskType = d.Type,
            AssigneeId = d.Assignee?.Id,
            CreatedByAgentId = actor.AgentId,
            CreatedAt = now,
            UpdatedAt = now,
        }).ToList();
        db.Tasks.AddRange(tasks);
        await Plans.PlanApproval.ProposeAsync(db, teamId, actor, tasks, now, ct);
        await db.SaveChangesAsync(ct);

        for (var i = 0; i < tasks.Count; i++)
        {
            var t = tasks[i];
            var d = drafts[i];
            var allDeps = d.Deps.Concat(d.Indices.Select(x => tasks[x].Id)).Distinct().Order().ToList();
            TaskTimeline.Add(db, t.Id, teamId, "created", actor, now, to: t.Status, data: new
            {
                t.Title,
                Priority = EnumNames.ToSnake(t.Priority),
                TaskType = EnumNames.ToSnake(t.TaskType),
                t.ParentId,
                t.PlanId,
                DependsOn = allDeps,
                BatchIndex = items.Count > 1 ? i : (int?)null,
            });
            foreach (var dep in allDeps)
            {
                db.TaskDependencies.Add(new TaskDependency { TaskId = t.Id, DependsOnId = dep });
                TaskTimeline.Add(db, t.Id, teamId, "dependency_added", actor, now, data: new { DependsOn = dep });
            }
            if (d.Assignee is { } a)
                TaskTimeline.Add(db, t.Id, teamId, "assigned", actor, now, data: new { AssigneeId = a.Id, AssigneeName = a.Name });
        }
        await db.SaveChangesAsync(ct);

        for (var i = 0; i < tasks.Count; i++)
        {
            // Only a task with no pending dependency can be ready now: new items are all todo.
            var d = drafts[i];
            if (d.Indices.Count > 0 || d.Deps.Any(x => existing[x].Status != TaskState.Done)) continue;
            await DagEffects.EnqueueIfReadyAsync(db, tasks[i], actor, now, toManagerIfUnassigned: tasks[i].ParentId is null, ct);
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return tasks;
    }
}
