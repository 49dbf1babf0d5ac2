using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Entourage.Server.Storage;

/// <summary>
/// Per-connection SQLite settings: WAL lets readers run beside the single writer; busy_timeout makes a second
/// writer wait instead of failing; foreign keys are off by default in SQLite and we rely on them. They belong to
/// the physical connection, which the pool keeps open across EF's open/close, so they run once per physical
/// connection rather than on every open (four statements before every query of every request, before).
/// </summary>
public sealed class SqliteConnectionInterceptor : DbConnectionInterceptor
{
    internal const string Pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON;";

    /// <summary>Native handles already configured; weak, so a handle the pool finally closes is forgotten.</summary>
    private readonly ConditionalWeakTable<object, object> _configured = new();
    private static readonly object Configured = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (!NeedsPragmas(connection, out var handle)) return;
        using var cmd = connection.CreateCommand();
        cmd.CommandText = Pragmas;
        cmd.ExecuteNonQuery();
        Remember(handle);
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (!NeedsPragmas(connection, out var handle)) return;
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = Pragmas;
        await cmd.ExecuteNonQueryAsync(cancellationToken);
        Remember(handle);
    }

    private bool NeedsPragmas(DbConnection connection, out object? handle)
    {
        handle = (connection as SqliteConnection)?.Handle;
        return handle is null || !_configured.TryGetValue(handle, out _);
    }

    private void Remember(object? handle)
    {
        if (handle is not null) _configured.AddOrUpdate(handle, Configured);
    }
}
