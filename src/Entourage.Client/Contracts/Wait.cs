namespace Entourage.Client.Contracts;

/// <summary>
/// POST /tasks/wait: blocks until every task is terminal (done, cancelled, failed) or can never start, or until
/// <c>timeout_seconds</c> (0 to 3600; a server may cut waits shorter with Api:MaxWaitSeconds). Ids may be numbers or numeric strings.
/// </summary>
public sealed record WaitTasksRequest(IReadOnlyList<long>? TaskIds, double? TimeoutSeconds = null);

/// <summary>State of one awaited task. <c>never_start</c>: todo behind a failed or cancelled dependency (directly or transitively).</summary>
public sealed record WaitTaskState(
    long Id,
    string Title,
    TaskState Status,
    bool Terminal,
    bool NeverStart,
    Guid? AssigneeId,
    IReadOnlyList<long> BlockedByFailed,
    string? FailureReason,
    DateTime? CompletedAt);

/// <summary>
/// <c>completed</c>: every task terminal. <c>timed_out</c>: the timeout passed first (tasks show current states).
/// <c>never_start</c>: tasks that cannot start until a failed/cancelled dependency is retried.
/// </summary>
public sealed record WaitTasksResponse(
    bool Completed,
    bool TimedOut,
    double WaitedSeconds,
    double TimeoutSeconds,
    IReadOnlyList<WaitTaskState> Tasks,
    IReadOnlyList<long> NeverStart,
    IReadOnlyDictionary<string, int> Counts);
