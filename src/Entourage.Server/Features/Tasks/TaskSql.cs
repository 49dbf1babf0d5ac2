using System.Data;
using System.Data.Common;
using System.Globalization;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// Plain ADO.NET commands on the context's own connection and transaction, for the simple statements on the path
/// from "task done" to the next turn: there EF's per-statement overhead (expression handling, command building,
/// interceptors), not the store, was most of the time (~0.5–1 ms a query on a loaded 2-core box against ~0.05 ms
/// for a command). Values are written the way EF stores them: on SQLite a Guid is upper-case TEXT, a DateTime is
/// TEXT "yyyy-MM-dd HH:mm:ss.FFFFFFF" and an enum its snake_case name. These writes bypass
/// <see cref="ChangeInterceptor"/>: a caller whose statement changes rows others listen for publishes them itself.
/// </summary>
internal static class TaskSql
{
    public static DbCommand Command(AppDbContext db, string sql)
    {
        var cmd = db.Database.GetDbConnection().CreateCommand();
        cmd.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        cmd.CommandText = sql;
        return cmd;
    }

    public static DbCommand With(this DbCommand cmd, string name, object? value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        cmd.Parameters.Add(p);
        return cmd;
    }

    public static object Id(AppDbContext db, Guid id) => db.IsPostgres ? id : id.ToString().ToUpperInvariant();

    public static object Time(AppDbContext db, DateTime utc) =>
        db.IsPostgres ? utc : utc.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);

    /// <summary>
    /// Runs <paramref name="read"/> with the context's connection open: inside a transaction it already is; outside
    /// one EF opens and closes it around each of its own queries, so a raw read opens it the same way.
    /// </summary>
    public static async Task<T> OnOpenConnectionAsync<T>(AppDbContext db, Func<Task<T>> read, CancellationToken ct)
    {
        if (db.Database.GetDbConnection().State == ConnectionState.Open) return await read();
        await db.Database.OpenConnectionAsync(ct);
        try { return await read(); }
        finally { await db.Database.CloseConnectionAsync(); }
    }
}
