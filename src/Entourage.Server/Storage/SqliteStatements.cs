using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Entourage.Server.Storage;

/// <summary>
/// The hand-written statements (<see cref="RawCommands"/>) kept prepared per SQLite connection, one command per SQL
/// text, for connections that stay open (<see cref="SqliteConnections"/>). A connection that closes drops its cache:
/// <see cref="SqliteConnection.Close"/> disposes its commands, and one used again after that would keep its statements
/// on whichever pooled handle it re-prepared on. A command in use (its <see cref="DbCommand"/> not yet disposed) is not
/// handed out twice; the second caller gets a new one.
/// </summary>
internal static class SqliteStatements
{
    /// <summary>Per connection: more distinct texts than this are not kept (a text built per call would grow it forever).</summary>
    private const int MaxPerConnection = 128;

    private sealed class Cache
    {
        public readonly Dictionary<string, Reused> Commands = new(StringComparer.Ordinal);
    }

    private static readonly ConditionalWeakTable<SqliteConnection, Cache> Caches = new();

    /// <summary>A kept command for <paramref name="sql"/> on an open connection, or null (the caller makes a new one).</summary>
    public static DbCommand? TryRent(SqliteConnection connection, string sql)
    {
        if (sql.Length == 0 || connection.State != ConnectionState.Open) return null;
        var cache = Caches.GetValue(connection, c =>
        {
            c.StateChange += (sender, e) =>
            {
                if (e.CurrentState != ConnectionState.Open && sender is SqliteConnection closed) Caches.Remove(closed);
            };
            return new Cache();
        });
        if (!cache.Commands.TryGetValue(sql, out var reused))
        {
            if (cache.Commands.Count >= MaxPerConnection) return null;
            var inner = connection.CreateCommand();
            inner.CommandText = sql;
            cache.Commands[sql] = reused = new Reused(inner, sql);
        }
        if (reused.InUse) return null;
        reused.InUse = true;
        return reused;
    }

    /// <summary>A kept command: disposing it only gives it back (its parameters cleared, its statements kept).</summary>
    internal sealed class Reused(SqliteCommand inner, string sql) : DbCommand
    {
        public bool InUse { get; set; }

        public SqliteCommand Inner => inner;

        [AllowNull]
        public override string CommandText { get => inner.CommandText; set => inner.CommandText = value; }

        public override int CommandTimeout { get => inner.CommandTimeout; set => inner.CommandTimeout = value; }

        public override CommandType CommandType { get => inner.CommandType; set => inner.CommandType = value; }

        public override bool DesignTimeVisible { get => inner.DesignTimeVisible; set => inner.DesignTimeVisible = value; }

        public override UpdateRowSource UpdatedRowSource { get => inner.UpdatedRowSource; set => inner.UpdatedRowSource = value; }

        protected override DbConnection? DbConnection { get => inner.Connection; set => inner.Connection = (SqliteConnection?)value; }

        protected override DbParameterCollection DbParameterCollection => inner.Parameters;

        protected override DbTransaction? DbTransaction { get => inner.Transaction; set => inner.Transaction = (SqliteTransaction?)value; }

        public override void Cancel() => inner.Cancel();

        public override int ExecuteNonQuery() => inner.ExecuteNonQuery();

        public override object? ExecuteScalar() => inner.ExecuteScalar();

        public override void Prepare() => inner.Prepare();

        protected override DbParameter CreateDbParameter() => inner.CreateParameter();

        protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) => inner.ExecuteReader(behavior);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                // A caller that changed the text leaves the command as the cache knows it (prepared again next time).
                if (!string.Equals(inner.CommandText, sql, StringComparison.Ordinal)) inner.CommandText = sql;
                inner.Parameters.Clear();
                inner.Transaction = null;
                InUse = false;
            }
        }

        public override ValueTask DisposeAsync()
        {
            Dispose(true);
            return ValueTask.CompletedTask;
        }
    }
}
