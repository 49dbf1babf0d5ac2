using Entourage.Client.Contracts;

namespace Entourage.Server.Dispatch;

/// <summary>Why a running turn must stop, as its heartbeat found out.</summary>
public sealed record TurnStop(StopKind Kind, string Reason);

/// <summary>
/// What a node published at the end of a turn on its own clone: the task branch and the head it pushed (with the
/// branch's diff against the base, to refresh an open review), or why the push failed.
/// </summary>
public sealed record TurnPublication(string Branch, string? Head, string? Error, string? BaseSha = null, string? Diff = null);

/// <summary>
/// Where the state of a turn goes while it runs (issue #10): straight into the database on a server or a
/// PostgreSQL runner (<see cref="DbTurnSink"/>), or to the server's runner protocol over HTTPS
/// (<see cref="Runners.Http.HttpTurnSink"/>). <see cref="TurnRunner"/> runs a turn the same way with either.
/// </summary>
public interface ITurnSink
{
    /// <summary>The turn's working directory, and for a task its worktree and branch (the merge queue lands that branch).</summary>
    Task WorkspaceReadyAsync(TurnAssignment turn, string workingDirectory, string? worktreePath, string? branch, CancellationToken ct);

    /// <summary>Appends a chunk of output (whole lines, each ending in a newline) to the turn's log.</summary>
    Task AppendLogAsync(TurnAssignment turn, string chunk, CancellationToken ct);

    /// <summary>Renews the turn's lease; a non-null answer means the turn must stop (ended elsewhere, over budget).</summary>
    Task<TurnStop?> BeatAsync(TurnAssignment turn, CancellationToken ct);

    /// <summary>Ends the turn exactly once (a late or duplicate completion changes nothing), after recording what was pushed.</summary>
    Task CompleteAsync(TurnAssignment turn, TurnOutcome outcome, TurnPublication? published, CancellationToken ct);
}
