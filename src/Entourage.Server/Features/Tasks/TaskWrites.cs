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
    public sealed record Saved(List<Change>? Changes, Action Accept)
    {
        public static readonly Saved Nothing = new([], () => { });
    }

    public static async Task<Saved> SaveAsync(AppDbContext db, CancellationToken ct)
    {
        var entries = db.ChangeTracker.Entries().Where(e => e.State is EntityState.Added or EntityState.Modified or EntityState.Deleted).ToList();
        if (entries.Count == 0) return Saved.Nothing;
        if (!entries.All(Supported) || db.Database.CurrentTransaction is null)
        {
            await db.SaveChangesAsync(ct);
            return new Saved(null, () => { });
        }

        await using var cmd = db.Command("");
        var sql = new StringBuilder();
        foreach (var entry in entries)
        {
            if (entry.State == EntityState.Modified) AppendUpdate(sql, cmd, entry);
            else AppendInsert(sql, cmd, entry);
        }
        cmd.CommandText = sql.ToString();

        // One result per statement, in order: the key of the row written (an update that matched nothing has none).
        var keys = new List<long>(entries.Count);
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            for (var i = 0; i < entries.Count; i++)
            {
                if (i > 0 && !await reader.NextResultAsync(ct)) throw new InvalidOperationException("A statement of the task write batch returned no result.");
                if (!await reader.ReadAsync(ct))
                    throw new DbUpdateConcurrencyException(
                        $"The update of {entries[i].Metadata.GetTableName()} row {entries[i].Property(entries[i].Metadata.FindPrimaryKey()!.Properties[0].Name).CurrentValue} " +
                        "affected 0 rows: it was modified since it was read.");
                keys.Add(reader.GetInt64(0));
            }
        }

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
                if (entry.State == EntityState.Added) entry.Property(entry.Metadata.FindPrimaryKey()!.Properties[0].Name).CurrentValue = keys[i];
            }
            db.ChangeTracker.AcceptAllChanges();
        });
    }

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

    private static void AppendUpdate(StringBuilder sql, DbCommand cmd, EntityEntry entry)
    {
        // AppDbContext bumps the version of every modified task on save; the WHERE checks the one this change read.
        var task = (TaskItem)entry.Entity;
        var version = entry.Property(nameof(TaskItem.Version));
        var readVersion = (long)version.OriginalValue!;
        task.Version = readVersion + 1;
        version.IsModified = true;

        var type = entry.Metadata;
        var key = type.FindPrimaryKey()!.Properties[0];
        sql.Append("UPDATE ").Append(type.GetTableName()).Append(" SET ");
        var first = true;
        foreach (var p in entry.Properties.Where(p => p.IsModified))
        {
            if (!first) sql.Append(", ");
            first = false;
            sql.Append(p.Metadata.GetColumnName()).Append(" = ").Append(Parameter(cmd, p.Metadata, p.CurrentValue));
        }
        sql.Append(" WHERE ").Append(key.GetColumnName()).Append(" = ").Append(Parameter(cmd, key, entry.Property(key.Name).CurrentValue))
            .Append(" AND ").Append(version.Metadata.GetColumnName()).Append(" = ").Append(Parameter(cmd, version.Metadata, readVersion))
            .Append(" RETURNING ").Append(key.GetColumnName()).Append(";\n");
    }

    private static void AppendInsert(StringBuilder sql, DbCommand cmd, EntityEntry entry)
    {
        var type = entry.Metadata;
        var key = type.FindPrimaryKey()!.Properties[0];
        var columns = new List<string>();
        var values = new List<string>();
        foreach (var p in entry.Properties)
        {
            if (p.Metadata == key) continue; // store-generated
            columns.Add(p.Metadata.GetColumnName());
            values.Add(Parameter(cmd, p.Metadata, p.CurrentValue));
        }
        sql.Append("INSERT INTO ").Append(type.GetTableName()).Append(" (").AppendJoin(", ", columns)
            .Append(") VALUES (").AppendJoin(", ", values).Append(") RETURNING ").Append(key.GetColumnName()).Append(";\n");
    }

    /// <summary>A parameter typed and converted by the property's own EF mapping, as SaveChanges would send it.</summary>
    private static string Parameter(DbCommand cmd, IProperty property, object? value)
    {
        var name = "p" + cmd.Parameters.Count;
        var mapping = property.GetRelationalTypeMapping();
        cmd.Parameters.Add(mapping.CreateParameter(cmd, name, value, property.IsNullable));
        return "@" + name;
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
