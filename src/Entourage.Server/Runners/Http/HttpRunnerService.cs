using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Agents;
using Entourage.Server.Dispatch;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Runners.Http;

/// <summary>
/// An HTTP runner node (issue #10): registers with the server, heartbeats its node and turns, long-polls for
/// claims while it has free slots, and runs each claimed turn with the same <see cref="TurnRunner"/> as every
/// node, its state going to the server (<see cref="HttpTurnSink"/>). Shutdown is soft like the dispatcher's:
/// stop claiming, let running turns finish for Dispatch:ShutdownTimeoutSeconds, then kill and release the rest.
/// A revoked token (401) stops the runner: nothing it could do would be accepted.
/// </summary>
public sealed partial class HttpRunnerService(
    RunnerApiClient api,
    RunnerSession session,
    RunnerWorktrees worktrees,
    TurnRunner runner,
    LocalTurns local,
    AdapterCatalog adapters,
    IHostApplicationLifetime lifetime,
    IOptions<DispatchOptions> options,
    IOptions<HttpRunnerOptions> runnerOptions,
    TimeProvider clock,
    ILogger<HttpRunnerService> logger) : BackgroundService
{
    private readonly SemaphoreSlim _slotFreed = new(0, int.MaxValue);
    private readonly MissingExecutables _missing = new();
    private RunnerRegistrationDto? _registration;

    /// <summary>Set when the server refused the runner's token; the host exits non-zero.</summary>
    public static int ExitCode { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            await RegisterAsync(stoppingToken);
            var heartbeat = HeartbeatLoopAsync(stoppingToken);
            await ClaimLoopAsync(stoppingToken);
            await heartbeat;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (RunnerApiException ex) when (ex.Fatal)
        {
            Refused(ex);
        }
    }

    /// <summary>The token was revoked (or is not a runner token): stop everything and exit non-zero.</summary>
    private void Refused(RunnerApiException ex)
    {
        if (ExitCode != 0) return;
        LogRefused(logger, ex.Message);
        ExitCode = 3;
        foreach (var t in local.All) t.Stop(StopKind.Released, "The server refused this runner's token.");
        lifetime.StopApplication();
    }

    private async Task RegisterAsync(CancellationToken ct)
    {
        var o = options.Value;
        var name = runnerOptions.Value.Name ?? DefaultName();
        for (var failures = 0; ; failures++)
        {
            try
            {
                _registration = await api.RegisterAsync(new RunnerRegisterRequest(name, NodeLabels.Parse(NodeLabels.FromConfig(o.Labels)).Cast<string?>().ToList(),
                    o.MaxConcurrentAgents, NodeIdentity.Version, Environment.MachineName), ct);
                session.NodeId = _registration.NodeId;
                LogRegistered(logger, _registration.NodeId, api.BaseAddress?.ToString() ?? "", string.Join(",", _registration.Labels), _registration.Capacity);
                return;
            }
            catch (Exception ex) when (IsTransient(ex) && !ct.IsCancellationRequested)
            {
                await BackoffAsync(failures, ex.Message, ct);
            }
        }
    }

    /// <summary>The machine's name and this process's id: unique per start, and what GET /nodes shows.</summary>
    public static string DefaultName()
    {
        var host = new string(Environment.MachineName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray()).Trim('-', '.', '_');
        var name = $"{(host.Length == 0 ? "runner" : host)}-{Environment.ProcessId}";
        return name.Length > 63 ? name[^63..].TrimStart('-', '.', '_') : name;
    }

    private async Task ClaimLoopAsync(CancellationToken ct)
    {
        var capacity = _registration!.Capacity;
        for (var failures = 0; !ct.IsCancellationRequested;)
        {
            while (local.Count >= capacity) await _slotFreed.WaitAsync(ct);
            TurnAssignment? turn;
            try
            {
                turn = await api.ClaimAsync(new RunnerClaimRequest(session.NodeId, AvailableAdapters(), runnerOptions.Value.ClaimWaitSeconds, _missing.Current()), ct);
                failures = 0;
            }
            catch (RunnerApiException ex) when (ex.NodeGone)
            {
                LogNodeGone(logger, session.NodeId, ex.Message);
                await RegisterAsync(ct);
                continue;
            }
            catch (Exception ex) when (IsTransient(ex) && !ct.IsCancellationRequested)
            {
                await BackoffAsync(failures++, ex.Message, ct);
                continue;
            }
            if (turn is null) continue;
            if (adapters.Check(turn.Adapter, turn.Config) is { Available: false } check) await GiveBackAsync(turn, check.Reason ?? "The agent's executable is missing.", ct);
            else Start(turn);
        }
    }

    /// <summary>
    /// The turn's agent runs an executable this machine lacks: released to the server (the work goes back to the
    /// queue without using up an attempt), and the executable is named in later claims so it is not offered again.
    /// Starting it would fail the turn and retry it, possibly here again, until the task died.
    /// </summary>
    private async Task GiveBackAsync(TurnAssignment turn, string reason, CancellationToken ct)
    {
        if (AdapterCatalog.ExecutableOf(turn.Adapter, turn.Config) is { } exe) _missing.Add(exe);
        var why = $"Not runnable on runner node {session.NodeId}: {reason} Released for a node that has it.";
        LogGivenBack(logger, turn.TurnId, why);
        try
        {
            await api.LogAsync(turn.TurnId, new RunnerLogRequest(session.NodeId, ["[entourage] " + why]), ct);
            await api.CompleteAsync(turn.TurnId, new RunnerCompleteRequest(session.NodeId, "released", Error: why), ct);
        }
        catch (Exception ex) when (IsTransient(ex) && !ct.IsCancellationRequested)
        {
            // Unheard, the turn's lease runs out and the server sweeps it back to the queue all the same.
            LogGiveBackFailed(logger, turn.TurnId, ex.Message);
        }
    }

    /// <summary>Adapters whose CLI this machine has (the command adapter names its executable per agent, so it always counts).</summary>
    private List<string?> AvailableAdapters() =>
        AdapterCatalog.DefaultExecutables.Keys.Where(a => a == "command" || adapters.Check(a, new JsonObject()).Available).Cast<string?>().ToList();

    private void Start(TurnAssignment turn)
    {
        var lt = new LocalTurn(turn.TurnId, turn.TeamId, turn.AgentId, turn.TaskId);
        local.Add(lt);
        var sink = new HttpTurnSink(api, session, clock, logger);
        _ = Task.Run(async () =>
        {
            try
            {
                await runner.RunAsync(turn, sink, lt);
            }
            catch (Exception ex)
            {
                LogTurnCrashed(logger, turn.TurnId, ex);
            }
            finally
            {
                local.Remove(turn.TurnId);
                lt.Finished.TrySetResult();
                _slotFreed.Release();
            }
        });
    }

    private async Task HeartbeatLoopAsync(CancellationToken ct)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(0.1, Math.Min(_registration!.HeartbeatSeconds, options.Value.Heartbeat.TotalSeconds)));
        using var timer = new PeriodicTimer(interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    await BeatAsync(ct);
                }
                catch (RunnerApiException ex) when (ex.NodeGone)
                {
                    // The claim loop registers again; until then there is no node to beat for.
                    LogNodeGone(logger, session.NodeId, ex.Message);
                }
                catch (RunnerApiException ex) when (ex.Fatal)
                {
                    Refused(ex);
                    return;
                }
                catch (Exception ex) when (IsTransient(ex))
                {
                    // Missed beats let leases run out: the server recovers the work, as for any dead node.
                    LogHeartbeatFailed(logger, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task BeatAsync(CancellationToken ct)
    {
        var running = local.All;
        var answer = await api.HeartbeatAsync(new RunnerHeartbeatRequest(session.NodeId, [.. running.Select(t => t.Id)], worktrees.Tasks), ct);
        foreach (var stop in answer.Stop)
        {
            var s = new TurnStop(stop.Kind == "budget" ? StopKind.Budget : StopKind.External, stop.Reason);
            session.SetStop(stop.TurnId, s);
            if (local.TryGet(stop.TurnId, out var lt)) lt.Stop(s.Kind, s.Reason);
        }
        await worktrees.RemoveAsync(answer.RemoveWorktrees, ct);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var running = local.All;
        if (running.Count > 0)
        {
            var grace = TimeSpan.FromSeconds(Math.Max(0, options.Value.ShutdownTimeoutSeconds));
            LogDraining(logger, running.Count, grace.TotalSeconds);
            await Task.WhenAny(Task.WhenAll(running.Select(t => t.Finished.Task)), Task.Delay(grace, clock, CancellationToken.None));
            foreach (var t in local.All) t.Stop(StopKind.Released, "The runner shut down before the turn finished; the work was released to another node.");
            await Task.WhenAny(Task.WhenAll(running.Select(t => t.Finished.Task)), Task.Delay(TimeSpan.FromSeconds(10), clock, CancellationToken.None));
        }
        if (session.NodeId.Length == 0 || ExitCode != 0) return;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await api.StopAsync(new RunnerStopRequest(session.NodeId), cts.Token);
        }
        catch (Exception ex) when (ex is RunnerApiException or HttpRequestException or OperationCanceledException)
        {
            // The node will show lost instead of stopped.
            LogStopNotRecorded(logger, ex.Message);
        }
    }

    private static bool IsTransient(Exception ex) => ex switch
    {
        RunnerApiException api => !api.Fatal,
        HttpRequestException or TaskCanceledException or IOException => true,
        _ => false,
    };

    private async Task BackoffAsync(int failures, string error, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(Math.Min(10_000, 250 * Math.Pow(2, Math.Min(failures, 6))));
        LogUnreachable(logger, api.BaseAddress?.ToString() ?? "", delay.TotalMilliseconds, error);
        await Task.Delay(delay, clock, ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered as runner node {NodeId} with {Server} (labels [{Labels}], capacity {Capacity}).")]
    private static partial void LogRegistered(ILogger logger, string nodeId, string server, string labels, int capacity);

    [LoggerMessage(Level = LogLevel.Error, Message = "The server refused this runner: {Error}. Mint a runner token with POST /api/v1/runner-tokens and pass it with --runner-token.")]
    private static partial void LogRefused(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Server {Server} unreachable or failing; retrying in {DelayMs} ms: {Error}")]
    private static partial void LogUnreachable(ILogger logger, string server, double delayMs, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server no longer knows node {NodeId} ({Error}); registering again.")]
    private static partial void LogNodeGone(ILogger logger, string nodeId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat failed: {Error}. Leases expire if this persists.")]
    private static partial void LogHeartbeatFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Turn {TurnId} crashed.")]
    private static partial void LogTurnCrashed(ILogger logger, Guid turnId, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Turn {TurnId} given back: {Why}")]
    private static partial void LogGivenBack(ILogger logger, Guid turnId, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not give turn {TurnId} back ({Error}); its lease will run out instead.")]
    private static partial void LogGiveBackFailed(ILogger logger, Guid turnId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: waiting up to {Seconds} s for {Count} running turn(s).")]
    private static partial void LogDraining(ILogger logger, int count, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not tell the server this runner stopped: {Error}")]
    private static partial void LogStopNotRecorded(ILogger logger, string error);
}

/// <summary>HTTP runner settings (section "Runner").</summary>
public sealed class HttpRunnerOptions
{
    /// <summary>The node's name prefix (default: host name and process id).</summary>
    public string? Name { get; set; }

    /// <summary>How long one claim waits on the server for work (at most 25).</summary>
    public int ClaimWaitSeconds { get; set; } = 25;
}
