namespace Entourage.Tests.Faults;

/// <summary>
/// The reference model of a team's tasks and their DAG (DESIGN §3), small enough to be obviously right: states,
/// allowed transitions, dependencies, assignees; readiness, blockers and "can never start" derived from them.
/// </summary>
public sealed class TaskModel
{
    public const string Todo = "todo", InProgress = "in_progress", InReview = "in_review", Done = "done", Cancelled = "cancelled", Failed = "failed", Proposed = "proposed";

    public static readonly string[] States = [Todo, InProgress, InReview, Done, Cancelled, Failed, Proposed];

    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        [Todo] = [InProgress, Cancelled],
        [InProgress] = [InReview, Done, Failed, Todo, Cancelled],
        [InReview] = [Done, InProgress, Failed, Cancelled],
        [Done] = [],
        [Cancelled] = [],
        [Failed] = [Todo],
        [Proposed] = [Todo, Cancelled],
    };

    public sealed class Task
    {
        public required long Id { get; init; }
        public string Status { get; set; } = Todo;
        public Guid? Assignee { get; set; }
        public SortedSet<long> Deps { get; set; } = [];
    }

    public SortedDictionary<long, Task> Tasks { get; } = [];

    public static bool IsTerminal(string s) => s is Done or Cancelled or Failed;

    public static bool IsFailedEnd(string s) => s is Failed or Cancelled;

    public static bool CanMove(string from, string to) => Allowed[from].Contains(to);

    public List<long> BlockedBy(Task t) => t.Deps.Where(d => Tasks[d].Status != Done).ToList();

    public List<long> BlockedByFailed(Task t) => t.Deps.Where(d => IsFailedEnd(Tasks[d].Status)).ToList();

    public bool Ready(Task t) => t.Status == Todo && BlockedBy(t).Count == 0 && t.Assignee is not null;

    public bool NeverStart(Task t) => t.Status == Todo && t.Deps.Any(d => IsFailedEnd(Tasks[d].Status) || NeverStart(Tasks[d]));

    /// <summary>True when <paramref name="from"/> depends (transitively) on <paramref name="to"/>.</summary>
    public bool Reaches(long from, long to, HashSet<long>? seen = null)
    {
        if (from == to) return true;
        seen ??= [];
        if (!seen.Add(from)) return false;
        return Tasks.TryGetValue(from, out var t) && t.Deps.Any(d => Reaches(d, to, seen));
    }

    /// <summary>The expected HTTP status of POST /tasks/{id}/status, and the state change it makes.</summary>
    public int ChangeStatus(long id, string to)
    {
        if (!States.Contains(to)) return 422;
        if (!Tasks.TryGetValue(id, out var t)) return 404;
        if (t.Status == to) return 200;
        if (!CanMove(t.Status, to)) return 409;
        if (to == InProgress && BlockedBy(t).Count > 0) return 409;
        t.Status = to;
        return 200;
    }

    /// <summary>POST /tasks/{id}/assign: unknown agent 422, same assignee a no-op, finished task 409.</summary>
    public int Assign(long id, Guid? agent, bool agentKnown)
    {
        if (!Tasks.TryGetValue(id, out var t)) return 404;
        if (!agentKnown) return 422;
        if (t.Assignee == agent) return 200;
        if (IsTerminal(t.Status)) return 409;
        t.Assignee = agent;
        return 200;
    }

    /// <summary>PATCH /tasks/{id} {depends_on}: todo only, known same-team tasks, no self-edge, no cycle.</summary>
    public int ReplaceDeps(long id, IReadOnlyCollection<long> deps)
    {
        if (!Tasks.TryGetValue(id, out var t)) return 404;
        if (t.Status is not (Todo or Proposed)) return 422;
        if (deps.Contains(id) || deps.Any(d => !Tasks.ContainsKey(d))) return 422;
        if (deps.Any(d => Reaches(d, id))) return 422;
        t.Deps = [.. deps];
        return 200;
    }
}
