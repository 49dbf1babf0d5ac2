using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;

namespace Entourage.Server.Dispatch;

/// <summary>
/// Adds a dispatch request to the caller's unit of work, so it commits in the same transaction as its cause
/// (the message insert, the task becoming ready, …). Never save it separately: that is how work gets lost.
/// </summary>
public static class DispatchRequests
{
    public static DispatchRequest Enqueue(AppDbContext db, Guid teamId, Guid agentId, DispatchReason reason, DateTime now, long? taskId = null, string? reference = null, int priority = 0)
    {
        var r = new DispatchRequest
        {
            TeamId = teamId,
            AgentId = agentId,
            Reason = reason,
            TaskId = taskId,
            Ref = reference,
            Priority = priority,
            State = DispatchState.Pending,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.DispatchRequests.Add(r);
        return r;
    }
}
