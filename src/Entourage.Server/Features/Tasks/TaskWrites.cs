using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// Saves what a status change leaves in the context (the task row, timeline entries, dispatch requests) as one
/// batch of plain statements instead of EF's SaveChanges, which cost 1–4 ms per save on this path (one round trip
/// instead of EF's command building, and on PostgreSQL the same single round trip). The statements are what EF
/// would send: columns and parameter types come from the EF model, the task's version is bumped and checked as
/// <see cref="AppDbContext"/> does, and a lost race throws the same <see cref="DbUpdateConcurrencyException"/>.
/// Anything else in the context (other entities, deletions) goes through SaveChanges as before. Raw writes bypass
/// <see cref="ChangeInterceptor"/>, so the caller publishes the returned changes after its commit.
/// </summary>
internal static class TaskWrites
{
    public sealed record Change(string Kind, string Id, Guid TeamId, string Op);

    /// <summary>
    /// What the batch wrote: the changes to publish after the commit (null when SaveChanges saved: its interceptor
    /// publishes), and <see cref="Accept"/>, the context's bookkeeping (generated keys, entries unchanged), left for
    /// after the commit and the publishing. It cost 0.3–0.4 ms on the path from "task done" to the dependent's turn:
    /// the commit's ring waited for it, though nothing before the commit needs it.
    /// </summary>
    /// <param name="Committed">The batch also committed the transaction (see <see cref="SaveAsync"/>'s <c>commit</c>).</param>
    public sealed record Saved(List<Change>? Changes, Action Accept, bool Committed = false)
    {
        public static readonly Saved Nothing = new([], () => { });
    }

    /// <summary>
    /// Statements sent in the same batch after the writes, which see them (the turn of a dependent the change made
    /// ready, claimed in the change's transaction): no round trip of their own. They read their own results, from the
    /// reader positioned on the writes' last one, and must not throw for a failure of their own (a savepoint keeps it
    /// from costing the writes). Not sent when the writes are not a batch (SaveChanges saved them).
    /// </summary>
    public interface ITail
    {
        void Append(StringBuilder sql);

        /// <summary>Its parameters, on the batch's command (made once the whole text is known).</summary>
        void Bind(DbCommand cmd);

        /// <summary>False when its statement failed: the batch stopped there, and nothing after it ran.</summary>
        Task<bool> ReadAsync(DbDataReader reader, CancellationToken ct);
    }

    /// <summary>
    /// Saves the context's changes in the caller's transaction. With <paramref name="commit"/> on PostgreSQL, a batch
    /// ends with the transaction's COMMIT, and <see cref="Saved.Committed"/> says it ran: the caller then neither
    /// commits (the transaction is over) nor runs anything else in it. What EF saved earlier in the transaction is
    /// published here, as EF's commit would (<see cref="ChangeInterceptor.PublishCommittedInBatch"/>); the batch's own
    /// changes are the caller's to publish, as always. The commit was a round trip of its own after the
    /// writes, 0.3–0.5 ms on the path from "task done" to the dependent's turn. A task's version check must then fail
    /// the statement, not just return no row (the batch would commit the rest): see <see cref="AppendUpdate"/>.
    /// </summary>
    public static async Task<Saved> SaveAsync(AppDbContext db, CancellationToken ct, ITail? tail = null, bool commit = false)
    {
        var entries = db.ChangeTracker.Entries().Where(e => e.State is EntityState.Added or EntityState.Modified or EntityState.Deleted).ToList();
        if (entries.Count == 0) return Saved.Nothing;
        if (!entries.All(Supported) || db.Database.CurrentTransaction is null)
        {
            await db.SaveChangesAsync(ct);
            return new Saved(null, () => { });
        }

        commit &= db.IsPostgres;
        // The text first, then the command for it: on SQLite a command is kept prepared per text (RawCommands), and a
        // status change sends the same few texts again and again; made before its text was known, every batch was
        // prepared anew (measured interleaved, SQLite, n = 400: "task done -> dependent's turn" 2.10-2.31 -> 1.90-2.14 ms
        // p50, three runs).
        var sql = new StringBuilder();
        var values = new List<(Column Column, object? Value)>();
        foreach (var entry in entries)
        {
            if (entry.State == EntityState.Modified) AppendUpdate(sql, values, entry, failIfStale: commit);
            else AppendInsert(sql, values, entry);
        }
        tail?.Append(sql);
        if (commit) sql.Append("COMMIT;\n");
        await using var cmd = db.Command(sql.ToString());
        for (var i = 0; i < values.Count; i++)
        {
            var (column, value) = values[i];
            cmd.Parameters.Add(column.Mapping.CreateParameter(cmd, cmd.ParameterName("p" + i.ToString(CultureInfo.InvariantCulture)), value, column.Property.IsNullable));
        }
        tail?.Bind(cmd);

        // One result per statement, in order: the key of the row written (an update that matched nothing has none).
        var keys = new List<long>(entries.Count);
        var committed = commit;
        try
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            for (var i = 0; i < entries.Count; i++)
            {
                if (i > 0 && !await reader.NextResultAsync(ct)) throw new InvalidOperationException("A statement of the task write batch returned no result.");
                if (!await reader.ReadAsync(ct)) throw Stale(entries[i]);
                keys.Add(reader.GetInt64(0));
            }
            // A tail whose statement failed stopped the batch before its COMMIT; the caller recovers and commits.
            if (tail is not null && !await tail.ReadAsync(reader, ct)) committed = false;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DivisionByZero && commit)
        {
            // A guarded update matched no row (AppendUpdate); it is the only statement here that divides.
            throw Stale(entries.First(x => x.State == EntityState.Modified));
        }
        if (committed) db.Changes().PublishCommittedInBatch(db);

        var changes = new List<Change>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            changes.Add(new Change(KindOf(entry.Metadata), keys[i].ToString(CultureInfo.InvariantCulture), TeamOf(entry.Entity), entry.State == EntityState.Added ? "added" : "modified"));
        }
        return new Saved(changes, () =>
        {
            for (var i = 0; i < entries.Count; i++)
            {
                var entry = entries[i];
                if (entry.State == EntityState.Added) entry.Property(ShapeOf(entry.Metadata).Key.Property).CurrentValue = keys[i];
            }
            db.ChangeTracker.AcceptAllChanges();
        }, committed);
    }

    private static DbUpdateConcurrencyException Stale(EntityEntry entry) => new(
        $"The update of {entry.Metadata.GetTableName()} row {entry.Property(entry.Metadata.FindPrimaryKey()!.Properties[0].Name).CurrentValue} " +
        "affected 0 rows: it was modified since it was read.");

    /// <summary>The team of a row <see cref="Supported"/> lets through, read from the entity (not through EF's entry).</summary>
    private static Guid TeamOf(object entity) => entity switch
    {
        TaskItem t => t.TeamId,
        TaskEvent e => e.TeamId,
        DispatchRequest r => r.TeamId,
        _ => throw new InvalidOperationException($"TaskWrites does not write {entity.GetType().Name} rows."),
    };

    public static void Publish(AppDbContext db, List<Change>? changes)
    {
        if (changes is not { Count: > 0 }) return;
        var interceptor = db.Changes();
        foreach (var c in changes) interceptor.PublishRaw(c.Kind, c.Id, c.TeamId, c.Op);
    }

    /// <summary>Only what a status change writes, each with a single store-generated long key.</summary>
    private static bool Supported(EntityEntry e) => (e.Entity, e.State) switch
    {
        (TaskItem, EntityState.Modified) => true,
        (TaskEvent or DispatchRequest, EntityState.Added) => true,
        _ => false,
    };

    /// <param name="failIfStale">
    /// The batch commits itself: an update that matches no row (a stale version) must fail the statement, so the batch
    /// stops before its COMMIT and the transaction is rolled back, instead of returning no row after the rest
    /// committed. One division by the updated row count does it: it is not a constant, so it is evaluated only when
    /// the statement runs (PostgreSQL has no RAISE outside PL/pgSQL).
    /// </param>
    private static void AppendUpdate(StringBuilder sql, List<(Column Column, object? Value)> values, EntityEntry entry, bool failIfStale)
    {
        // AppDbContext bumps the version of every modified task on save; the WHERE checks the one this change read.
        var task = (TaskItem)entry.Entity;
        var version = entry.Property(nameof(TaskItem.Version));
        var readVersion = (long)version.OriginalValue!;
        task.Version = readVersion + 1;
        version.IsModified = true;

        var shape = ShapeOf(entry.Metadata);
        if (failIfStale) sql.Append("WITH u AS (");
        sql.Append("UPDATE ").Append(shape.Table).Append(" SET ");
        var first = true;
        foreach (var c in shape.Columns)
        {
            var p = entry.Property(c.Property);
            if (!p.IsModified) continue;
            if (!first) sql.Append(", ");
            first = false;
            sql.Append(c.Name).Append(" = ").Append(Parameter(values, c, p.CurrentValue));
        }
        var versionColumn = shape.Columns.First(c => c.Property == version.Metadata);
        sql.Append(" WHERE ").Append(shape.Key.Name).Append(" = ").Append(Parameter(values, shape.Key, entry.Property(shape.Key.Property).CurrentValue))
            .Append(" AND ").Append(versionColumn.Name).Append(" = ").Append(Parameter(values, versionColumn, readVersion))
            .Append(" RETURNING ").Append(shape.Key.Name);
        sql.Append(failIfStale ? ") SELECT (SELECT u." + shape.Key.Name + " FROM u), 1 / (SELECT COUNT(*) FROM u);\n" : ";\n");
    }

    private static void AppendInsert(StringBuilder sql, List<(Column Column, object? Value)> values, EntityEntry entry)
    {
        var shape = ShapeOf(entry.Metadata);
        var current = entry.CurrentValues;
        sql.Append(shape.Insert);
        for (var i = 0; i < shape.Columns.Length; i++)
        {
            if (i > 0) sql.Append(", ");
            sql.Append(Parameter(values, shape.Columns[i], current[shape.Columns[i].Property]));
        }
        sql.Append(") RETURNING ").Append(shape.Key.Name).Append(";\n");
    }

    /// <summary>A column: its property, name and EF type mapping (the parameter's type and value conversion).</summary>
    private sealed record Column(IProperty Property, string Name, RelationalTypeMapping Mapping);

    /// <summary>
    /// A table's statement parts, worked out once per entity type of each EF model (the tests run both stores in one
    /// process): the store-generated key, the other columns, and the insert's head. Asking EF's metadata for every
    /// column's name and mapping on every save cost 0.45–0.65 ms of the status change, more than running the batch
    /// on SQLite.
    /// </summary>
    private sealed record Shape(string Table, Column Key, Column[] Columns, string Insert);

    private static readonly ConcurrentDictionary<IEntityType, Shape> Shapes = new();

    private static Shape ShapeOf(IEntityType type) => Shapes.GetOrAdd(type, static t =>
    {
        var keyProperty = t.FindPrimaryKey()!.Properties[0];
        Column ColumnOf(IProperty p) => new(p, p.GetColumnName(), p.GetRelationalTypeMapping());
        var columns = t.GetProperties().Where(p => p != keyProperty).Select(ColumnOf).ToArray();
        var table = t.GetTableName()!;
        return new Shape(table, ColumnOf(keyProperty), columns, $"INSERT INTO {table} ({string.Join(", ", columns.Select(c => c.Name))}) VALUES (");
    });

    /// <summary>
    /// A parameter's name, its value kept with its column: typed and converted by the column's own EF mapping, as
    /// SaveChanges would send it, once the command exists.
    /// </summary>
    private static string Parameter(List<(Column Column, object? Value)> values, Column column, object? value)
    {
        values.Add((column, value));
        return "@p" + (values.Count - 1).ToString(CultureInfo.InvariantCulture);
    }

    // As the change feed names kinds (ChangeInterceptor): tasks → task, task_events → task_event, dispatch_requests → dispatch_request.
    private static string KindOf(IEntityType type) => type.GetTableName() switch
    {
        "tasks" => "task",
        var t when t is not null && t.EndsWith("ies", StringComparison.Ordinal) => t[..^3] + "y",
        var t when t is not null && t.EndsWith('s') => t[..^1],
        var t => t ?? type.ClrType.Name,
    };
}
