using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace Entourage.Server.Storage;

/// <summary>
/// Hand-written ADO.NET commands on an EF context's own connection, for the few statements on the dispatch
/// latency path (a message and its dispatch request, a turn's claim). The store runs them in microseconds; EF
/// spent 0.4–1.8 ms of CPU on each query or save around them on a 2-core machine (expression and command
/// building, change tracking, interceptors), which was most of POST /messages → turn claimed.
/// <para>
/// Values are written exactly as EF writes them, so EF reads these rows back unchanged: on SQLite upper-case Guid
/// text, "yyyy-MM-dd HH:mm:ss.FFFFFFF" times and "yyyy-MM-dd" days; enums as snake_case text on both stores.
/// Transactions and connections stay EF's (so the SQLite connection interceptor's pragmas and the PostgreSQL team
/// locks apply as everywhere else); raw writes bypass <see cref="ChangeInterceptor"/>, so their callers publish
/// the change events after commit.
/// </para>
/// </summary>
internal static class RawCommands
{
    public static DbCommand Command(this DbConnection connection, DbTransaction? tx, string sql)
    {
        var cmd = (connection is SqliteConnection sqlite ? SqliteStatements.TryRent(sqlite, sql) : null) ?? connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        return cmd;
    }

    /// <summary>A command in the context's current EF transaction (if any), on its connection.</summary>
    public static DbCommand Command(this AppDbContext db, string sql) =>
        db.Database.GetDbConnection().Command(db.Database.CurrentTransaction?.GetDbTransaction(), sql);

    /// <summary>The context's <see cref="ChangeInterceptor"/>, for publishing raw writes after commit.</summary>
    public static ChangeInterceptor Changes(this AppDbContext db) =>
        db.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.Interceptors?.OfType<ChangeInterceptor>().FirstOrDefault()
        ?? throw new InvalidOperationException("This context was built without the ChangeInterceptor (StorageRegistration adds it).");

    public static DbCommand With(this DbCommand cmd, string name, object? value)
    {
        var p = cmd.CreateParameter();
        var sqlite = IsSqlite(cmd);
        p.ParameterName = cmd.ParameterName(name);
        p.Value = sqlite ? ForSqlite(value) : value switch
        {
            null => DBNull.Value,
            Enum e => EnumNames.ToSnake(e),
            _ => value,
        };
        cmd.Parameters.Add(p);
        return cmd;
    }

    /// <summary>
    /// A parameter's name for <paramref name="cmd"/>: on SQLite as the statement spells it (<c>@name</c>), elsewhere as given. Microsoft.Data.Sqlite binds every parameter of
    /// a command to every statement of it, and looks an unprefixed name up four times per statement (as given, then
    /// with each of <c>@ : $</c>, to report an ambiguous one), each lookup a UTF-8 conversion and a scan of the
    /// statement's parameters: in the multi-statement batches of a status change that was ~15 % of its CPU in a trace
    /// of the dispatch benchmark. Prefixed, it is one lookup.
    /// </summary>
    internal static string ParameterName(this DbCommand cmd, string name) =>
        !IsSqlite(cmd) || name.Length > 0 && name[0] is '@' or ':' or '$' ? name : "@" + name;

    private static bool IsSqlite(DbCommand cmd) => cmd is SqliteCommand or SqliteStatements.Reused;

    private static object ForSqlite(object? value) => value switch
    {
        null => DBNull.Value,
        Enum e => EnumNames.ToSnake(e),
        Guid g => g.ToString().ToUpperInvariant(),
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        bool b => b ? 1L : 0L,
        _ => value,
    };

    /// <summary>
    /// Runs <paramref name="read"/> with the context's connection open: inside a transaction it already is; outside
    /// one EF opens and closes it around each of its own queries, so a raw command opens it the same way.
    /// </summary>
    public static async Task<T> OnOpenConnectionAsync<T>(this AppDbContext db, Func<Task<T>> read, CancellationToken ct)
    {
        if (db.Database.GetDbConnection().State == System.Data.ConnectionState.Open) return await read();
        await db.Database.OpenConnectionAsync(ct);
        try { return await read(); }
        finally { await db.Database.CloseConnectionAsync(); }
    }

    public static Guid Guid(this DbDataReader r, int i) => r.GetFieldValue<Guid>(i);

    public static Guid? NullableGuid(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetFieldValue<Guid>(i);

    public static long? NullableLong(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);

    public static string? NullableString(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    /// <summary>Every time we store is UTC; SQLite hands it back Unspecified (as EF's converter does, say so).</summary>
    public static DateTime Utc(this DbDataReader r, int i) => DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Utc);

    public static DateTime? NullableUtc(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.Utc(i);
}
