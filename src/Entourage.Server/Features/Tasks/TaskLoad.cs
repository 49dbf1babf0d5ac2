using System.Data.Common;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Entourage.Server.Features.Tasks;

/// <summary>Loading a task for a change: team first (to take the team's lock), then the row inside the transaction.</summary>
internal static class TaskLoad
{
    /// <summary>The task row, tracked; compiled, since most task endpoints start with it.</summary>
    public static readonly PerModel<Func<AppDbContext, long, CancellationToken, Task<TaskItem?>>> Row = new(() =>
        EF.CompileAsyncQuery((AppDbContext db, long taskId, CancellationToken ct) => db.Tasks.FirstOrDefault(t => t.Id == taskId)));

    public static async Task<Guid> TeamOfAsync(AppDbContext db, long taskId, CancellationToken ct)
    {
        var team = await db.Tasks.Where(t => t.Id == taskId).Select(t => (Guid?)t.TeamId).FirstOrDefaultAsync(ct);
        return team ?? throw ApiProblem.NotFound("task", taskId);
    }

    /// <summary>Reads the current row (reloading it if the context already tracked an older copy).</summary>
    public static async Task<TaskItem> ForUpdateAsync(AppDbContext db, long taskId, CancellationToken ct)
    {
        // A row this context already tracks may be older than the transaction: reload it. An untracked one is
        // read fresh by the query itself, so one round trip is enough (this is on every status change's path).
        var tracked = db.Tasks.Local.FirstOrDefault(t => t.Id == taskId);
        if (tracked is null) return await TaskViews.FindAsync(db, taskId, ct);
        await db.Entry(tracked).ReloadAsync(ct);
        return tracked;
    }

    /// <summary>
    /// Begins the transaction of a change of one task and reads the task in it, tracked, in one round trip: on
    /// PostgreSQL one batch takes the team's lock (<see cref="TaskTransaction.LockKeySql"/>) and then reads the row
    /// under it (each statement of a batch sees what committed before it started). That was three round trips (the
    /// team, the lock, the row), ~1 ms each on a loaded box, on every status change. The row is read with a plain
    /// command and attached, as EF's tracking query would leave it (<see cref="Materialize"/>). 404 when the task does
    /// not exist. A context already tracking the task takes the general path, which reloads it.
    /// <para>
    /// The batch also reads what the change's answer needs besides the row (<see cref="TaskViews.EdgesSql"/>).
    /// With <paramref name="settledReads"/> (a change to a terminal state), it also runs
    /// <see cref="DagEffects.SettledSql"/>, whose result the caller hands to <see cref="DagEffects"/>: another round
    /// trip fewer. Null on the general path, where DagEffects reads it itself.
    /// </para>
    /// </summary>
    /// <param name="now">The time of the batch's own writes (the task's retired wake-ups).</param>
    public static async Task<ForChange> BeginForChangeAsync(AppDbContext db, long taskId, bool settledReads, DateTime now, CancellationToken ct)
    {
        var tracked = db.Tasks.Local.Any(t => t.Id == taskId);
        var tx = tracked ? await TaskTransaction.BeginForTaskAsync(db, taskId, ct) : await db.Database.BeginTransactionAsync(ct);
        try
        {
            if (tracked) return new ForChange(tx, await ForUpdateAsync(db, taskId, ct), null, null);
            var (task, settled, edges) = await ReadAttachedAsync(db, taskId, settledReads, now, ct);
            return new ForChange(tx, task ?? throw ApiProblem.NotFound("task", taskId), settled, edges);
        }
        catch
        {
            await tx.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// What <see cref="BeginForChangeAsync"/> began and read: the transaction, the task (tracked), and on the batched
    /// path the DAG reads (<see cref="DagEffects.SettledSql"/>, when asked for) and the answer's
    /// (<see cref="TaskViews.EdgesSql"/>); null where that path read nothing.
    /// </summary>
    public sealed record ForChange(IDbContextTransaction Tx, TaskItem Task, DagEffects.Settled? Settled, TaskViews.Edges? Edges);

    private static async Task<(TaskItem? Task, DagEffects.Settled? Settled, TaskViews.Edges? Edges)> ReadAttachedAsync(
        AppDbContext db, long taskId, bool settledReads, DateTime now, CancellationToken ct)
    {
        var (select, properties) = RowSql(db);
        var sql = db.IsPostgres ? $"{LockSql};\n{select};\n{TaskViews.EdgesSql}" : $"{select};\n{TaskViews.EdgesSql}";
        await using var cmd = db.Command(settledReads ? sql + ";\n" + DagEffects.SettledSql : sql).With("id", taskId);
        if (settledReads) cmd.BindSettled(taskId, now);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (db.IsPostgres)
        {
            // The lock's row (none when the task does not exist); its value is void.
            while (await reader.ReadAsync(ct)) { }
            if (!await reader.NextResultAsync(ct)) throw new InvalidOperationException("The task read of the lock batch returned no result.");
        }
        if (!await reader.ReadAsync(ct)) return (null, null, null);
        var task = Materialize(reader, properties);
        db.Tasks.Attach(task);
        if (!await reader.NextResultAsync(ct)) throw new InvalidOperationException("The answer's reads of the task read batch returned no result.");
        var edges = await TaskViews.ReadEdgesAsync(reader, ct);
        if (!settledReads) return (task, null, edges);
        if (!await reader.NextResultAsync(ct)) throw new InvalidOperationException("The settled reads of the task read batch returned no result.");
        return (task, await DagEffects.ReadSettledAsync(reader, ct), edges);
    }

    /// <summary>PostgreSQL: the team's lock of the task <c>@id</c> (<see cref="TaskTransaction.LockKeySql"/>); one row, none when the task does not exist.</summary>
    internal static readonly string LockSql = $"SELECT pg_advisory_xact_lock({TaskTransaction.LockKeySql("t.team_id")}) FROM tasks t WHERE t.id = @id";

    /// <summary>
    /// The read of the task <c>@id</c>'s row, every column of the model, for <see cref="Materialize(object[], List{IProperty})"/>:
    /// worked out once per EF model (the tests run both stores in one process), not from its metadata on every change.
    /// </summary>
    internal static (string Sql, List<IProperty> Properties) RowSql(AppDbContext db) => RowSqls.GetOrAdd(db.Model, static model =>
    {
        var type = model.FindEntityType(typeof(TaskItem))!;
        var properties = type.GetProperties().ToList();
        return ($"SELECT {string.Join(", ", properties.Select(p => p.GetColumnName()))} FROM {type.GetTableName()} WHERE id = @id", properties);
    });

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<IModel, (string Sql, List<IProperty> Properties)> RowSqls = new();

    /// <summary>
    /// A row as EF materializes it, from its columns' stored values (as <see cref="Materialize(DbDataReader, List{IProperty})"/>
    /// reads them; on PostgreSQL also as Npgsql's GetValues gives them): each converted by the property's own mapping
    /// (snake_case enums, UTC date-times), so a property added to the model is read here too.
    /// </summary>
    internal static TaskItem Materialize(object[] row, List<IProperty> properties)
    {
        var task = new TaskItem { Title = "" };
        for (var i = 0; i < properties.Count; i++)
        {
            var p = properties[i];
            var value = row[i] is DBNull ? null : row[i];
            p.PropertyInfo!.SetValue(task, value is not null && p.GetRelationalTypeMapping().Converter is { } c ? c.ConvertFromProvider(value) : value);
        }
        return task;
    }

    /// <summary>The row at the reader, each column read as the provider type of its property's mapping, then materialized.</summary>
    internal static TaskItem Materialize(DbDataReader reader, List<IProperty> properties)
    {
        var row = new object[properties.Count];
        for (var i = 0; i < properties.Count; i++)
        {
            var p = properties[i];
            if (reader.IsDBNull(i))
            {
                row[i] = DBNull.Value;
                continue;
            }
            var stored = p.GetRelationalTypeMapping().Converter?.ProviderClrType ?? p.ClrType;
            stored = Nullable.GetUnderlyingType(stored) ?? stored;
            row[i] = stored == typeof(long) ? reader.GetInt64(i)
                : stored == typeof(int) ? reader.GetInt32(i)
                : stored == typeof(string) ? reader.GetString(i)
                : stored == typeof(Guid) ? reader.GetGuid(i)
                : stored == typeof(DateTime) ? reader.GetDateTime(i)
                : stored == typeof(bool) ? reader.GetBoolean(i)
                : stored == typeof(double) ? reader.GetDouble(i)
                : throw new NotSupportedException($"Task column {p.GetColumnName()} has a type ({stored}) TaskLoad does not read yet.");
        }
        return Materialize(row, properties);
    }
}
