using Entourage.Client.Contracts;
using MudBlazor;

namespace Entourage.Server.Dashboard.Data;

/// <summary>
/// Why a task is where it is. DESIGN §3: a todo task is ready when every dependency is done and it has an
/// assignee; a dependency that ended failed/cancelled blocks it until that dependency is retried.
/// </summary>
public static class TaskLooks
{
    public sealed record Dep(long Id, TaskState State);

    public static (TaskLook Look, string? Why) Classify(TaskState state, bool hasAssignee, bool turnRunning, IReadOnlyList<Dep> deps, string? failureReason = null)
    {
        switch (state)
        {
            case TaskState.InProgress:
                return (TaskLook.Running, turnRunning ? null : "in progress, no turn running right now");
            case TaskState.InReview: return (TaskLook.InReview, "waiting for review");
            case TaskState.Done: return (TaskLook.Done, null);
            case TaskState.Cancelled: return (TaskLook.Cancelled, null);
            case TaskState.Failed: return (TaskLook.Failed, failureReason);
        }

        var broken = deps.Where(d => d.State is TaskState.Failed or TaskState.Cancelled).Select(d => d.Id).ToList();
        if (broken.Count > 0) return (TaskLook.Blocked, $"blocked by failed {Ids(broken)}");
        var open = deps.Where(d => d.State != TaskState.Done).Select(d => d.Id).ToList();
        if (open.Count > 0) return (TaskLook.Waiting, $"waiting for {Ids(open)}");
        if (!hasAssignee) return (TaskLook.Unassigned, "ready, no assignee: the manager assigns it");
        return (TaskLook.Ready, null);
    }

    private static string Ids(List<long> ids) => string.Join(", ", ids.Select(i => "#" + i));

    public static string Label(this TaskLook look) => look switch
    {
        TaskLook.InReview => "in review",
        _ => look.ToString().ToLowerInvariant(),
    };

    /// <summary>CSS class (dashboard styles) giving each look one colour in both themes.</summary>
    public static string Css(this TaskLook look) => "look-" + look.ToString().ToLowerInvariant();

    public static string Name(this TaskState s) => s switch
    {
        TaskState.InProgress => "in progress",
        TaskState.InReview => "in review",
        _ => s.ToString().ToLowerInvariant(),
    };

    public static Color PriorityColor(this TaskPriority p) => p switch
    {
        TaskPriority.Critical => Color.Error,
        TaskPriority.High => Color.Warning,
        TaskPriority.Medium => Color.Info,
        _ => Color.Default,
    };
}
