using System.Diagnostics;
using Entourage.Client.Contracts;
using Entourage.Server.Agents;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Dispatch;

/// <summary>
/// Runs one claimed turn to its end, wherever it was claimed: prepare, start the agent's process, stream its output
/// to the log, heartbeat the lease (a heartbeat that finds the turn no longer running, or the team over budget,
/// stops it), kill the whole process tree on stop, publish a runner's task branch, and complete the turn exactly
/// once. Where the turn's state goes (the database, or the server over HTTP) is the <see cref="ITurnSink"/>'s business.
/// </summary>
public sealed partial class TurnRunner(
    TurnPreparation preparation,
    Runners.TurnWorkspace workspace,
    IOptions<DispatchOptions> options,
    TimeProvider clock,
    ILogger<TurnRunner> logger)
{
    public async Task RunAsync(TurnAssignment turn, ITurnSink sink, LocalTurn local)
    {
        var o = options.Value;
        var log = new TurnLogWriter((chunk, ct) => sink.AppendLogAsync(turn, chunk, ct), o.MaxLogChars);
        using var flushStop = new CancellationTokenSource();
        var flusher = log.RunAsync(TimeSpan.FromMilliseconds(Math.Max(20, o.LogFlushMilliseconds)), flushStop.Token);
        TurnOutcome outcome;
        string? turnDir = null;
        PreparedTurn? prepared = null;
        // The lease is renewed from the claim on, not only while the process runs: preparing (a runner's clone
        // and fetch, a setup command) and publishing can outlast a lease, and other nodes would sweep the turn.
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = HeartbeatAsync(turn, sink, local, heartbeatStop.Token);
        try
        {
            prepared = await preparation.PrepareAsync(turn, sink, log, local.StopToken);
            turnDir = prepared.TurnDirectory;
            outcome = await RunProcessAsync(turn, prepared, local, log);
        }
        catch (TurnPreparationException ex)
        {
            log.Append("[entourage] could not start the agent: " + ex.Message);
            outcome = new TurnOutcome(TurnState.Failed, RequestFate.Retry, null, ex.Message, null, null);
        }
        catch (OperationCanceledException) when (local.StopKind is not null)
        {
            outcome = Stopped(local, null, null, null);
        }
        catch (Exception ex)
        {
            LogRunFailed(logger, turn.TurnId, ex);
            log.Append("[entourage] turn failed: " + ex.Message);
            outcome = new TurnOutcome(TurnState.Failed, RequestFate.Retry, null, ex.Message, null, null);
        }
        // A runner pushes the task branch before the turn ends, so whoever acts on the turn's end (the merge
        // queue, the task's next turn on another node) finds the work on the team's remote.
        TurnPublication? published = null;
        if (prepared is not null && local.StopKind is not (StopKind.Cancelled or StopKind.External))
        {
            try { published = await workspace.AfterTurnAsync(turn.TaskId, turn.TurnId, prepared, log, CancellationToken.None); }
            catch (Exception ex) { log.Append("[entourage] publishing the turn's work failed: " + ex.Message); }
        }
        await heartbeatStop.CancelAsync();
        await heartbeat;
        await flushStop.CancelAsync();
        await flusher;
        try
        {
            await sink.CompleteAsync(turn, outcome, published, CancellationToken.None);
        }
        finally
        {
            if (turnDir is not null) TryDelete(turnDir);
        }
    }

    private async Task<TurnOutcome> RunProcessAsync(TurnAssignment turn, PreparedTurn prepared, LocalTurn local, TurnLogWriter log)
    {
        var spec = prepared.Spec;
        var psi = new ProcessStartInfo(SessionLeader.Path ?? spec.FileName)
        {
            WorkingDirectory = prepared.WorkingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (SessionLeader.Path is not null) foreach (var a in SessionLeader.Arguments(spec.FileName)) psi.ArgumentList.Add(a);
        foreach (var a in spec.Arguments) psi.ArgumentList.Add(a);
        // Allow-listed environment only: never leak the server's own secrets to an agent.
        psi.Environment.Clear();
        foreach (var (k, v) in spec.Environment) psi.Environment[k] = v;

        var parser = new TurnOutputParser(options.Value.Prices, prepared.Model);
        using var process = new Process { StartInfo = psi };
        try
        {
            if (!process.Start()) throw new TurnPreparationException($"Could not start '{spec.FileName}'.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new TurnPreparationException($"Could not start '{spec.FileName}': {ex.Message}");
        }
        LogStarted(logger, turn.TurnId, turn.AgentId, process.Id);
        var stdout = PumpAsync(process.StandardOutput, line => { parser.Feed(line); log.Append(line); });
        var stderr = PumpAsync(process.StandardError, line => log.Append("[stderr] " + line));
        try
        {
            if (spec.Stdin is not null) await process.StandardInput.WriteAsync(spec.Stdin);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The process exited without reading its prompt; its exit code tells the story.
        }

        try
        {
            await process.WaitForExitAsync(local.StopToken);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            await process.WaitForExitAsync(CancellationToken.None);
        }
        await Task.WhenAll(stdout, stderr);

        var exit = process.ExitCode;
        if (local.StopKind is not null) return Stopped(local, exit, parser.Usage, parser.SessionId);
        log.Append($"[entourage] exited with code {exit}");
        return exit == 0 && parser.ResultError is null
            ? new TurnOutcome(TurnState.Succeeded, RequestFate.Done, exit, null, parser.Usage, parser.SessionId)
            : new TurnOutcome(TurnState.Failed, RequestFate.Retry, exit, parser.ResultError ?? $"The agent process exited with code {exit}.", parser.Usage, parser.SessionId);
    }

    private static TurnOutcome Stopped(LocalTurn local, int? exit, TurnUsage? usage, string? session) => local.StopKind switch
    {
        StopKind.Budget => new(TurnState.Cancelled, RequestFate.Requeue, exit, local.StopReason, usage, session),
        StopKind.Released => new(TurnState.Lost, RequestFate.Requeue, exit, local.StopReason, usage, session),
        _ => new(TurnState.Cancelled, RequestFate.Done, exit, local.StopReason, usage, session),
    };

    /// <summary>Renews the lease; stops the turn when the sink says it ended elsewhere or the team is over budget.</summary>
    private async Task HeartbeatAsync(TurnAssignment turn, ITurnSink sink, LocalTurn local, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.Value.Heartbeat, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    if (await sink.BeatAsync(turn, ct) is { } stop)
                    {
                        local.Stop(stop.Kind, stop.Reason);
                        return;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A heartbeat that cannot reach the store lets the lease run out: another node will take over.
                    LogHeartbeatFailed(logger, turn.TurnId, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task PumpAsync(StreamReader reader, Action<string> onLine)
    {
        while (await reader.ReadLineAsync() is { } line) onLine(line);
    }

    public static void Kill(Process process)
    {
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Turn {TurnId} of agent {AgentId} started (pid {Pid}).")]
    private static partial void LogStarted(ILogger logger, Guid turnId, Guid agentId, int pid);

    [LoggerMessage(Level = LogLevel.Error, Message = "Turn {TurnId} failed unexpectedly.")]
    private static partial void LogRunFailed(ILogger logger, Guid turnId, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat of turn {TurnId} failed: {Error}. The lease will expire if this persists.")]
    private static partial void LogHeartbeatFailed(ILogger logger, Guid turnId, string error);
}
