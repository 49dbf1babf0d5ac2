using Entourage.Client.Contracts;
using Entourage.Server.Storage;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// POST /teams/{team_id}/tasks: a batch of one, so single and batch creation share every rule; errors name
/// the fields without an index ("assignee_id").
/// </summary>
public static class CreateTask
{
    public static async Task<TaskDto> ExecuteAsync(AppDbContext db, Guid teamId, CreateTaskRequest request, Actor actor, TimeProvider clock, CancellationToken ct)
    {
        var item = new BatchTaskItem(request.Title, request.Description, request.Priority, request.TaskType, request.AssigneeId, request.DependsOn, null, request.ParentId);
        var created = await CreateTasksBatch.CreateManyAsync(db, teamId, [item], _ => "", actor, clock, ct);
        return (await TaskViews.ToDtosAsync(db, created, ct))[0];
    }
}
