using Entourage.Client.Contracts;

namespace Entourage.Server.Dashboard.Data;

// Read models of the dashboard's views. Built per render from a short-lived DbContext; never tracked entities,
// so a circuit never holds a context or stale entity graph.

public sealed record TeamSummary(Guid Id, string Name, string Slug, string? Description, int Agents, int BusyAgents, int OpenTasks, int PendingRequests, double CostToday, double? DailyLimit);

public sealed record AgentRow(AgentDto Agent, string? Description, string? CurrentTaskTitle);

public sealed record TeamOverview(Guid Id, Guid OrgId, string Name, string Slug, string? Description, string? RepoPath, string BaseBranch, IReadOnlyList<AgentRow> Agents);

/// <summary>How a task looks on the board and in the DAG: its stored state refined by its dependencies.</summary>
public enum TaskLook { Ready, Waiting, Blocked, Unassigned, Running, InReview, Done, Failed, Cancelled }

public sealed record TaskCard(
    long Id,
    string Title,
    TaskPriority Priority,
    TaskType Type,
    TaskState State,
    TaskLook Look,
    long? ParentId,
    Guid? AssigneeId,
    string? AssigneeName,
    IReadOnlyList<long> DependsOn,
    string? Why,
    DateTime UpdatedAt);

public sealed record DependencyRef(long Id, string Title, TaskState State);

public sealed record TimelineEntry(long Id, string Kind, string Actor, string? From, string? To, string? Data, DateTime At);

public sealed record MessageRow(long Id, string From, string To, string Body, DateTime At, bool Read);

public sealed record TurnRow(Guid Id, string Agent, TurnState State, int Attempt, DateTime StartedAt, DateTime? EndedAt, int? ExitCode, string? Error, string Log, long InputTokens, long OutputTokens, double CostUsd);

public sealed record ReviewRow(long Id, ReviewState State, string Diff, string? Summary, string? Reviewer, DateTime RequestedAt, DateTime? DecidedAt, IReadOnlyList<ReviewCommentRow> Comments,
    string? Body = null, MergeState? Merge = null, string? MergeError = null, string? MergedSha = null);

public sealed record ReviewCommentRow(long Id, string FilePath, int Line, string Body, string? Author, DateTime At);

public sealed record TaskDetail(
    TaskCard Card,
    Guid TeamId,
    string TeamName,
    string Description,
    string? Branch,
    string? WorktreePath,
    string? FailureReason,
    int Attempts,
    int MaxAttempts,
    DateTime CreatedAt,
    DateTime? StartedAt,
    DateTime? CompletedAt,
    IReadOnlyList<DependencyRef> DependsOn,
    IReadOnlyList<DependencyRef> Dependents,
    IReadOnlyList<DependencyRef> Subtasks,
    IReadOnlyList<TimelineEntry> Timeline,
    IReadOnlyList<MessageRow> Messages,
    IReadOnlyList<TurnRow> Turns,
    ReviewRow? Review,
    long InputTokens,
    long OutputTokens,
    double CostUsd);

public sealed record HumanRequestRow(long Id, Guid TeamId, string TeamName, string? AgentName, long? TaskId, string? TaskTitle, HumanRequestKind Kind, string Question, IReadOnlyList<string> Options, DateTime CreatedAt);

public sealed record CostLine(string Label, double CostUsd, long InputTokens, long OutputTokens);

public sealed record TeamCosts(Guid TeamId, string TeamName, double? DailyLimit, double Today, IReadOnlyList<CostLine> ByAgent, IReadOnlyList<CostLine> ByDay);

public sealed record TeamSettingsModel
{
    public double? DailyCostLimitUsd { get; set; }
    public int? MaxConcurrentAgents { get; set; }
    public bool RequireReview { get; set; }
    public string MergeStrategy { get; set; } = "squash";
    public string? CheckCommand { get; set; }
    public string? SetupCommand { get; set; }
    public bool RequirePlanApproval { get; set; }
    public string? ManagerPrompt { get; set; }
    public string? EngineerPrompt { get; set; }
}

/// <summary>What a reviewer decided in the dashboard, before it goes through DecideReview.</summary>
public sealed record ReviewVerdict(long ReviewId, ReviewDecision Decision, string? Body, IReadOnlyList<ReviewCommentInput> Comments);
