using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;

namespace Entourage.Server.Features.Tasks;

/// <summary>The state machine of DESIGN §3 and the size limits of task fields.</summary>
public static class TaskRules
{
    public const int MaxTitle = 500;
    public const int MaxDescription = 20_000;
    public const int MaxBatch = 500;
    public const int MaxDependencies = 200;

    private static readonly Dictionary<TaskState, TaskState[]> Allowed = new()
    {
        // claim; cancel
        [TaskState.Todo] = [TaskState.InProgress, TaskState.Cancelled],
        // request review; finish (teams without review); give up; release back to the queue; cancel
        [TaskState.InProgress] = [TaskState.InReview, TaskState.Done, TaskState.Failed, TaskState.Todo, TaskState.Cancelled],
        // approve/merge; changes requested; give up; cancel
        [TaskState.InReview] = [TaskState.Done, TaskState.InProgress, TaskState.Failed, TaskState.Cancelled],
        [TaskState.Done] = [],
        [TaskState.Cancelled] = [],
        // retry
        [TaskState.Failed] = [TaskState.Todo],
        // a manager's plan awaiting approval (require_plan_approval): approved, or rejected/removed
        [TaskState.Proposed] = [TaskState.Todo, TaskState.Cancelled],
    };

    public static IReadOnlyList<TaskState> AllowedFrom(TaskState from) => Allowed[from];

    public static bool CanMove(TaskState from, TaskState to) => Allowed[from].Contains(to);

    public static string Describe(IEnumerable<TaskState> states)
    {
        var names = states.Select(s => EnumNames.ToSnake(s)).ToList();
        return names.Count == 0 ? "none (it is final)" : string.Join(", ", names);
    }

    public static bool IsFailedEnd(TaskState s) => s is TaskState.Failed or TaskState.Cancelled;

    /// <summary>Parses an enum field, recording "use one of …" when it is not a known value.</summary>
    public static T? ParseEnum<T>(ValidationErrors errors, string field, string? text) where T : struct, Enum
    {
        if (text is null) return null;
        if (EnumNames.TryParse<T>(text.Trim(), out var v)) return v;
        errors.Add(field, $"'{text}' is not a valid value. Use one of: {EnumNames.Allowed<T>()}.");
        return null;
    }

    public static void CheckTitle(ValidationErrors errors, string field, string? title, bool required)
    {
        if (title is null)
        {
            if (required) errors.Add(field, "Required: give the task a short title, e.g. \"Build notification API endpoints\".");
            return;
        }
        if (title.Trim().Length == 0) errors.Add(field, "Must not be empty.");
        else if (title.Length > MaxTitle) errors.Add(field, $"At most {MaxTitle} characters (got {title.Length}); put details in description.");
    }

    public static void CheckDescription(ValidationErrors errors, string field, string? description)
    {
        if (description is { Length: > MaxDescription })
            errors.Add(field, $"At most {MaxDescription} characters (got {description.Length}); link to a document instead.");
    }
}
