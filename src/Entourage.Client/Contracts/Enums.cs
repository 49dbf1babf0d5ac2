namespace Entourage.Client.Contracts;

// Enums travel as lower snake_case strings in JSON and in the database ("in_progress").

/// <summary>Task lifecycle of DESIGN §3. Terminal: done, cancelled, failed.</summary>
public enum TaskState { Todo, InProgress, InReview, Done, Cancelled, Failed, Proposed }

/// <summary>A manager's proposed plan (team setting require_plan_approval).</summary>
public enum PlanState { Proposed, Approved, Rejected }

public enum TaskPriority { Low, Medium, High, Critical }

public enum TaskType { Feature, Bug, Chore, Test, Docs, Refactor }

public enum AgentRole { Manager, Engineer, Reviewer }

public enum AgentStatus { Idle, Busy, Offline }

public enum ActorType { Human, Agent, System }

public enum DispatchReason { Message, TaskReady, Review, HumanAnswer, Wake, WaitComplete }

public enum DispatchState { Pending, Claimed, Done, Dead }

public enum TurnState { Running, Succeeded, Failed, Cancelled, Lost }

public enum HumanRequestKind { Question, Approval, Choice }

public enum HumanRequestStatus { Pending, Answered, Expired, Cancelled }

public enum ReviewState { Pending, Approved, ChangesRequested }

public enum MergeState { Queued, Running, Merged, Failed }

public static class TaskStates
{
    public static bool IsTerminal(this TaskState s) => s is TaskState.Done or TaskState.Cancelled or TaskState.Failed;
}
