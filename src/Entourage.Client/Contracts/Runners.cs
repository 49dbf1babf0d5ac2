using System.Text.Json.Nodes;

namespace Entourage.Client.Contracts;

/// <summary>
/// A runner token (issue #10): lets `entourage runner --server … --runner-token …` run turns over HTTPS on a
/// machine that must not reach the database. <c>token</c> is present only in the creation response (shown once).
/// </summary>
public sealed record RunnerTokenDto(Guid Id, string Name, IReadOnlyList<string> Labels, string Prefix, DateTime CreatedAt, DateTime? LastUsedAt, DateTime? RevokedAt, string? Token = null);

/// <summary>POST /runner-tokens. <c>labels</c>: when given, runners using the token may offer only these.</summary>
public sealed record CreateRunnerTokenRequest(string? Name, IReadOnlyList<string?>? Labels = null);

/// <summary>POST /runner/register: a runner announces itself and gets a node id for its later calls.</summary>
public sealed record RunnerRegisterRequest(string? Name, IReadOnlyList<string?>? Labels = null, int? Capacity = null, string? Version = null, string? Host = null);

/// <summary>The node a runner registered as, and the timings it must keep.</summary>
public sealed record RunnerRegistrationDto(string NodeId, IReadOnlyList<string> Labels, int Capacity, double HeartbeatSeconds, double LeaseSeconds, int MaxClaimWaitSeconds);

/// <summary>
/// POST /runner/heartbeat: renews the node's and its running turns' leases. <c>running_turns</c> are the turns the
/// runner is running; <c>worktree_tasks</c> the tasks it holds worktrees for (finished ones are named back).
/// </summary>
public sealed record RunnerHeartbeatRequest(string? NodeId, IReadOnlyList<Guid>? RunningTurns = null, IReadOnlyList<long>? WorktreeTasks = null);

/// <summary>Turns the runner must stop (<c>kind</c>: ended | budget) and tasks whose worktrees it may remove (done or cancelled).</summary>
public sealed record RunnerHeartbeatResponse(IReadOnlyList<RunnerTurnStopDto> Stop, IReadOnlyList<long> RemoveWorktrees);

public sealed record RunnerTurnStopDto(Guid TurnId, string Kind, string Reason);

/// <summary>
/// POST /runner/claim: a long poll (up to <c>wait_seconds</c>, default and maximum 25) for one turn to run; 204 when none.
/// <c>missing_executables</c>: agent executables (config.command or an adapter's default CLI) this runner found it
/// does not have; the server does not give it turns of agents that run one of them.
/// </summary>
public sealed record RunnerClaimRequest(string? NodeId, IReadOnlyList<string?>? Adapters = null, int? WaitSeconds = null, IReadOnlyList<string?>? MissingExecutables = null);

/// <summary>
/// Everything a node needs to run one claimed turn, whether it claimed it itself from the database or over HTTP:
/// the agent and its adapter configuration, the team's repository, the task and its branch, the prompt, the
/// per-turn bearer token, and the ENTOURAGE_* environment of the agent process.
/// </summary>
public sealed record TurnAssignment(
    Guid TurnId,
    int Attempt,
    Guid AgentId,
    string AgentName,
    AgentRole AgentRole,
    string Adapter,
    string? Model,
    JsonObject Config,
    Guid TeamId,
    string TeamSlug,
    string? RepoUrl,
    string? RepoPath,
    string BaseBranch,
    string? SetupCommand,
    long? TaskId,
    string? TaskTitle,
    string? TaskBranch,
    string Prompt,
    string? ResumeSessionId,
    string Token,
    string ServerUrl,
    string McpUrl,
    IReadOnlyDictionary<string, string> Environment);

/// <summary>POST /runner/turns/{turn_id}/log: output lines, appended in order.</summary>
public sealed record RunnerLogRequest(string? NodeId, IReadOnlyList<string?>? Lines);

/// <summary>POST /runner/turns/{turn_id}/workspace: where the turn runs (shown on the turn) and the task's branch.</summary>
public sealed record RunnerWorkspaceRequest(string? NodeId, string? WorkingDirectory, string? WorktreePath = null, string? Branch = null);

/// <summary>
/// POST /runner/turns/{turn_id}/complete. <c>outcome</c>: succeeded | failed (retried up to max attempts) |
/// cancelled | budget_stopped (work back to pending) | released (runner shut down; work back to pending).
/// </summary>
public sealed record RunnerCompleteRequest(string? NodeId, string? Outcome, int? ExitCode = null, string? Error = null, RunnerUsageDto? Usage = null, string? SessionId = null, RunnerPushDto? Push = null);

public sealed record RunnerUsageDto(long InputTokens, long OutputTokens, long CacheReadTokens, long CacheWriteTokens, double CostUsd, string? Model = null);

/// <summary>The task branch the runner pushed at the end of the turn (<c>head</c>), or why it could not (<c>error</c>).</summary>
public sealed record RunnerPushDto(string? Branch, string? Head = null, string? Error = null, string? BaseSha = null, string? Diff = null);

/// <summary>POST /runner/stop: a clean shutdown (its turns were released).</summary>
public sealed record RunnerStopRequest(string? NodeId);

/// <summary>A runner node's id and its state after a call (POST /runner/stop).</summary>
public sealed record NodeStateDto(string NodeId, string State);

/// <summary>POST /runner/turns/{turn_id}/complete: the state the turn ended in.</summary>
public sealed record RunnerCompleteResponse(Guid TurnId, string State);
