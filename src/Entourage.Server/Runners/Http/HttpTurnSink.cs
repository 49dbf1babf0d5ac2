using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Features.RunnerProtocol;

namespace Entourage.Server.Runners.Http;

/// <summary>
/// A turn claimed over HTTP: its state goes to the server's runner protocol. Log batches are split to stay well
/// under the server's body limit; the lease is renewed by the node's heartbeat (one call for all turns), so a
/// turn's own beat only reads what that heartbeat learned. The completion is retried until the server answers,
/// because the work it reports must not be lost to a network blip.
/// </summary>
public sealed partial class HttpTurnSink(RunnerApiClient api, RunnerSession session, TimeProvider clock, ILogger logger) : ITurnSink
{
    private const int MaxBatchChars = 256 * 1024;
    private const int MaxDiffChars = 512 * 1024;

    public async Task WorkspaceReadyAsync(TurnAssignment turn, string workingDirectory, string? worktreePath, string? branch, CancellationToken ct) =>
        await api.WorkspaceAsync(turn.TurnId, new RunnerWorkspaceRequest(session.NodeId, workingDirectory, worktreePath, branch), ct);

    public async Task AppendLogAsync(TurnAssignment turn, string chunk, CancellationToken ct)
    {
        var lines = chunk.EndsWith('\n') ? chunk[..^1].Split('\n') : chunk.Split('\n');
        var batch = new List<string?>();
        var size = 0;
        foreach (var line in lines)
        {
            if (batch.Count > 0 && (size + line.Length > MaxBatchChars || batch.Count >= RunnerTurnCalls.MaxLines))
            {
                await SendAsync(batch);
                batch = [];
                size = 0;
            }
            batch.Add(line.Length > MaxBatchChars ? line[..MaxBatchChars] : line);
            size += line.Length;
        }
        if (batch.Count > 0) await SendAsync(batch);

        async Task SendAsync(List<string?> b)
        {
            try
            {
                await api.LogAsync(turn.TurnId, new RunnerLogRequest(session.NodeId, b), ct);
            }
            catch (RunnerApiException ex) when (ex.Status == System.Net.HttpStatusCode.Conflict)
            {
                // The turn already ended on the server (cancelled, swept): its heartbeat will stop it.
            }
        }
    }

    public Task<TurnStop?> BeatAsync(TurnAssignment turn, CancellationToken ct) => Task.FromResult(session.StopOf(turn.TurnId));

    public async Task CompleteAsync(TurnAssignment turn, TurnOutcome outcome, TurnPublication? published, CancellationToken ct)
    {
        var u = outcome.Usage;
        var body = new RunnerCompleteRequest(session.NodeId, CompleteRunnerTurn.NameOf(outcome), outcome.ExitCode, Trim(outcome.Error, CompleteRunnerTurn.MaxError),
            u is null ? null : new RunnerUsageDto(u.InputTokens, u.OutputTokens, u.CacheReadTokens, u.CacheWriteTokens, u.CostUsd, u.Model),
            outcome.SessionId,
            published is null ? null : new RunnerPushDto(published.Branch, published.Head, Trim(published.Error, CompleteRunnerTurn.MaxError), published.BaseSha,
                published.Diff is { Length: > MaxDiffChars } d ? d[..MaxDiffChars] + "\n[diff truncated by the runner]\n" : published.Diff));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var r = await api.CompleteAsync(turn.TurnId, body, ct);
                LogCompleted(logger, turn.TurnId, r.State);
                return;
            }
            catch (RunnerApiException ex) when (ex.Status is System.Net.HttpStatusCode.Conflict or System.Net.HttpStatusCode.NotFound || ex.Fatal)
            {
                // Ended elsewhere already (or not ours any more): the server changed nothing, and that is final.
                LogNotCompleted(logger, turn.TurnId, ex.Message);
                return;
            }
            catch (Exception ex) when (attempt < 8 && ex is RunnerApiException or HttpRequestException or TaskCanceledException)
            {
                LogRetrying(logger, turn.TurnId, attempt, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(250 * Math.Pow(2, attempt)), clock, ct);
            }
            finally
            {
                session.Forget(turn.TurnId);
            }
        }
    }

    private static string? Trim(string? s, int max) => s is { } v && v.Length > max ? v[..max] : s;

    [LoggerMessage(Level = LogLevel.Information, Message = "Turn {TurnId} completed on the server: {State}.")]
    private static partial void LogCompleted(ILogger logger, Guid turnId, string state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Turn {TurnId}: the server did not take the completion: {Error}")]
    private static partial void LogNotCompleted(ILogger logger, Guid turnId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Completing turn {TurnId} failed (attempt {Attempt}): {Error}; retrying.")]
    private static partial void LogRetrying(ILogger logger, Guid turnId, int attempt, string error);
}
