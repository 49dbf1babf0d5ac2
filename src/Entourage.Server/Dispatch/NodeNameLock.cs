using Entourage.Server.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Entourage.Server.Dispatch;

/// <summary>
/// PostgreSQL: holds this node's stable name (<see cref="StableNodeName"/>) with a session advisory lock on a
/// dedicated connection kept open for the process's life. PostgreSQL drops the lock when the session ends, so
/// whoever holds it knows no live process has the name: turns left running under ids carrying it belonged to a
/// dead predecessor and are returned at once (LeaseSweeper) instead of after their lease. If a live process
/// already holds the name (two servers configured alike), this one warns and keeps a unique id, so it neither
/// returns nor ever has its own turns returned early. Registered before the sweeper and the dispatcher, which
/// read the node id only after this started.
/// </summary>
public sealed partial class NodeNameLock(
    NodeIdentity node,
    IOptions<DispatchOptions> dispatch,
    IOptions<StorageOptions> storage,
    TimeProvider clock,
    ILogger<NodeNameLock> logger) : IHostedService, IAsyncDisposable
{
    private NpgsqlConnection? _connection;
    private CancellationTokenSource? _stop;
    private Task? _watch;

    /// <summary>Backend pid of the session holding the name, if held (tests terminate it to prove the lock is taken again).</summary>
    public int? BackendPid { get; private set; }

    private TaskCompletionSource _acquired = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes the next time this process takes its name's lock (at start, or again after its connection
    /// dropped); take it before causing the drop, so the re-acquisition cannot be missed.
    /// </summary>
    public Task NextAcquisition => Volatile.Read(ref _acquired).Task;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var name = StableNodeName.Of(dispatch.Value, storage.Value);
        if (!StableNodeName.IsValid(name))
            throw new InvalidOperationException($"Dispatch:NodeName '{name}' is not a valid node name: {StableNodeName.Rule}.");
        var key = StableNodeName.LockKey(name);
        try
        {
            var conn = await OpenAsync(name, cancellationToken);
            if (!await TryLockAsync(conn, key, cancellationToken))
            {
                await conn.DisposeAsync();
                LogNameHeld(logger, name, node.Id);
                return;
            }
            _connection = conn;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // Without the lock this node is as before: a unique id, its predecessor's turns wait for their lease.
            LogLockFailed(logger, name, ex.Message);
            return;
        }
        if (!node.TryAdopt(name))
        {
            // Something read the id before this service started: keeping the name would change an id in use.
            LogTooLate(logger, name, node.Id);
            await _connection.DisposeAsync();
            _connection = null;
            return;
        }
        Acquired(_connection);
        LogHeld(logger, name, node.Id);
        _stop = new CancellationTokenSource();
        _watch = WatchAsync(name, key, _stop.Token);
    }

    private void Acquired(NpgsqlConnection conn)
    {
        BackendPid = conn.ProcessID;
        Interlocked.Exchange(ref _acquired, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>
    /// Waits on the lock's connection so a drop is noticed, then takes the lock again on a new one. While it is
    /// gone another process starting with this name could take it and return this node's turns: their next
    /// heartbeat finds them ended and stops them, as after an expired lease. That is logged as an error.
    /// </summary>
    private async Task WatchAsync(string name, long key, CancellationToken ct)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (_connection is null)
                {
                    var conn = await OpenAsync(name, ct);
                    if (!await TryLockAsync(conn, key, ct))
                    {
                        await conn.DisposeAsync();
                        LogNameTaken(logger, name);
                        return;
                    }
                    _connection = conn;
                    Acquired(conn);
                    failures = 0;
                    LogRelocked(logger, name);
                }
                // Keepalives make a dead connection throw here rather than hang.
                while (!ct.IsCancellationRequested) await _connection.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                BackendPid = null;
                if (_connection is { } lost) { _connection = null; await lost.DisposeAsync(); }
                LogLockLost(logger, name, ex.Message);
                failures++;
                try { await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures, 6)))), clock, ct); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(string name, CancellationToken ct)
    {
        var b = new NpgsqlConnectionStringBuilder(PostgresConnectionString.Normalize(storage.Value.DatabaseUrl!))
        {
            // The lock lives as long as this session: never hand the connection back to a pool.
            Pooling = false,
            KeepAlive = 5,
            ApplicationName = "entourage-node " + name,
        };
        var conn = new NpgsqlConnection(b.ConnectionString);
        try
        {
            await conn.OpenAsync(ct);
            return conn;
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection conn, long key, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", conn);
        cmd.Parameters.AddWithValue("key", key);
        return await cmd.ExecuteScalarAsync(ct) is true;
    }

    /// <summary>Stops after the dispatcher and the sweeper (reverse start order): the name is held until its turns are released.</summary>
    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (_stop is { } stop)
        {
            await stop.CancelAsync();
            if (_watch is { } watch) await watch;
            stop.Dispose();
            _stop = null;
        }
        if (_connection is { } conn)
        {
            _connection = null;
            await conn.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Holding node name {Name} (node id {NodeId}): turns a crashed predecessor of this name left running are returned at start.")]
    private static partial void LogHeld(ILogger logger, string name, string nodeId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node name {Name} is held by another live process (two nodes configured with the same Dispatch:NodeName, or the same data directory and database); running as {NodeId}, a crashed predecessor's turns wait for their lease. Give each node its own Dispatch:NodeName.")]
    private static partial void LogNameHeld(ILogger logger, string name, string nodeId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not take the lock of node name {Name} ({Error}); running with a unique id, a crashed predecessor's turns wait for their lease.")]
    private static partial void LogLockFailed(ILogger logger, string name, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node id {NodeId} was fixed before the lock of node name {Name} was taken; running without the name.")]
    private static partial void LogTooLate(ILogger logger, string name, string nodeId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the lock connection of node name {Name} ({Error}); taking it again.")]
    private static partial void LogLockLost(ILogger logger, string name, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Holding node name {Name} again.")]
    private static partial void LogRelocked(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Error, Message = "Node name {Name} was taken by another process while this node's lock connection was down; it may have returned this node's running turns (they stop at their next heartbeat). Give each node its own Dispatch:NodeName.")]
    private static partial void LogNameTaken(ILogger logger, string name);
}
