using System.Data;
using System.Data.Common;
using System.Globalization;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// The task path's plain commands (<see cref="RawCommands"/>, on the context's own connection and transaction):
/// there EF's per-statement overhead, not the store, was most of the time. Values written the way EF stores them
/// (on SQLite a Guid is upper-case TEXT, a DateTime TEXT "yyyy-MM-dd HH:mm:ss.FFFFFFF"), and a read run with the
/// connection open. These writes bypass <see cref="ChangeInterceptor"/>: a caller whose statement changes rows
/// others listen for publishes them itself.
/// </summary>
internal static class TaskSql
{
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
