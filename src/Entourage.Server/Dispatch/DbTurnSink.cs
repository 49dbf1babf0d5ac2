using Entourage.Client.Contracts;
using Entourage.Server.Storage.Entities;

namespace Entourage.Server.Dispatch;

/// <summary>A turn claimed from the database by this node: its state goes straight to the database (<see cref="TurnLedger"/>).</summary>
public sealed class DbTurnSink(TurnLedger ledger, Turn turn) : ITurnSink
{
    public Task WorkspaceReadyAsync(TurnAssignment a, string workingDirectory, string? worktreePath, string? branch, CancellationToken ct) =>
        ledger.SetWorkspaceAsync(turn.Id, turn.TaskId, workingDirectory, worktreePath, branch, ct);

    public Task AppendLogAsync(TurnAssignment a, string chunk, CancellationToken ct) => ledger.AppendLogAsync(turn.Id, turn.TeamId, chunk, ct);

    public Task<TurnStop?> BeatAsync(TurnAssignment a, CancellationToken ct) => ledger.BeatAsync(turn.Id, turn.TeamId, turn.TaskId, ct);

    public Task CompleteAsync(TurnAssignment a, TurnOutcome outcome, TurnPublication? published, CancellationToken ct) =>
        ledger.CompleteAsync(turn, outcome, published, ct);
}
