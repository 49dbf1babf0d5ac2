namespace Entourage.Client.Contracts;

/// <summary>
/// One event of GET /api/v1/events/stream (server-sent events; the SSE event name is <see cref="Kind"/>, its id
/// is <see cref="Seq"/>). It says what changed, not the new state: re-read the resource it names.
/// </summary>
/// <param name="Kind">task, agent, message, turn, task_event, usage_record, human_request, review, team…; "ready" first, "ping" to keep the connection alive.</param>
/// <param name="Op">added | modified | deleted | log (a turn's log grew).</param>
public sealed record ChangeEventDto(string Kind, string Id, Guid? TeamId, string Op, long Seq, DateTime At);
