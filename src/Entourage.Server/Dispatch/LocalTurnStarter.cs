using Entourage.Client.Contracts;

namespace Entourage.Server.Dispatch;

/// <summary>
/// A turn this node claimed from the database: read what it needs (<see cref="TurnAssignments"/>), then run it
/// with <see cref="TurnRunner"/>, its state going straight to the database (<see cref="DbTurnSink"/>).
/// </summary>
public sealed class LocalTurnStarter(TurnAssignments assignments, TurnLedger ledger, TurnRunner runner, ServerAddress address, Microsoft.Extensions.Options.IOptions<DispatchOptions> options, TimeProvider clock)
{
    public async Task RunAsync(ClaimedTurn claimed, LocalTurn local)
    {
        var sink = new DbTurnSink(ledger, claimed.Turn);
        TurnAssignment assignment;
        // The lease is renewed from the claim on: on a loaded machine reading the assignment can take seconds.
        using var keepAliveStop = new CancellationTokenSource();
        var keepAlive = KeepAliveAsync(claimed.Turn, keepAliveStop.Token);
        try
        {
            assignment = await assignments.BuildAsync(claimed, address.Url, local.StopToken);
        }
        catch (Exception ex) when (ex is TurnPreparationException || (ex is OperationCanceledException && local.StopKind is not null))
        {
            var turn = claimed.Turn;
            var outcome = ex is TurnPreparationException
                ? new TurnOutcome(TurnState.Failed, RequestFate.Retry, null, ex.Message, null, null)
                : new TurnOutcome(TurnState.Cancelled, local.StopKind is StopKind.Budget or StopKind.Released ? RequestFate.Requeue : RequestFate.Done, null, local.StopReason, null, null);
            if (ex is TurnPreparationException) await ledger.AppendLogAsync(turn.Id, turn.TeamId, "[entourage] could not start the agent: " + ex.Message + "\n", CancellationToken.None);
            await ledger.CompleteAsync(turn, outcome, null, CancellationToken.None);
            return;
        }
        finally
        {
            await keepAliveStop.CancelAsync();
            await keepAlive;
        }
        await runner.RunAsync(assignment, sink, local);
    }

    private async Task KeepAliveAsync(Storage.Entities.Turn turn, CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(options.Value.Heartbeat, clock);
            while (await timer.WaitForNextTickAsync(ct))
            {
                try { await ledger.BeatAsync(turn.Id, turn.TeamId, turn.TaskId, ct); }
                catch (Exception ex) when (ex is not OperationCanceledException) { /* the turn's own heartbeat reports failures */ }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
