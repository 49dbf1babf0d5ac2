using System.Text.Json;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;

namespace Entourage.Server.Features.Tasks;

/// <summary>Appends task events to the caller's unit of work: the timeline commits with the change it describes.</summary>
public static class TaskTimeline
{
    public static TaskEvent Add(AppDbContext db, long taskId, Guid teamId, string kind, Actor actor, DateTime now,
        TaskState? from = null, TaskState? to = null, object? data = null)
    {
        var e = New(taskId, teamId, kind, actor, now, from, to, data);
        db.TaskEvents.Add(e);
        return e;
    }

    /// <summary>The entry <see cref="Add"/> would append, for callers that write it by hand (the claim's hot path).</summary>
    public static TaskEvent New(long taskId, Guid teamId, string kind, Actor actor, DateTime now,
        TaskState? from = null, TaskState? to = null, object? data = null) =>
        new TaskEvent
        {
            TaskId = taskId,
            TeamId = teamId,
            Kind = kind,
            ActorType = actor.Type,
            ActorId = actor.Id,
            ActorName = actor.Name,
            FromStatus = from is { } f ? EnumNames.ToSnake(f) : null,
            ToStatus = to is { } t ? EnumNames.ToSnake(t) : null,
            DataJson = data is null ? null : JsonSerializer.Serialize(data, Hosting.JsonDefaults.Options),
            CreatedAt = now,
        };

    public static TaskEventDto ToDto(TaskEvent e) => new(
        e.Id, e.TaskId, e.TeamId, e.Kind, new ActorDto(e.ActorType, e.ActorId, e.ActorName ?? EnumNames.ToSnake(e.ActorType)),
        e.FromStatus, e.ToStatus, e.DataJson is null ? null : JsonNode.Parse(e.DataJson), e.CreatedAt);
}
