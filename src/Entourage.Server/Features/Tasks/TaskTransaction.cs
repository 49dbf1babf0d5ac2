using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// The transaction every DAG change runs in. SQLite has one writer at a time (BEGIN IMMEDIATE), so reads made
/// inside see every committed change. PostgreSQL runs writers concurrently under READ COMMITTED: two dependencies
/// finishing at once could each see the other still running, and neither would wake the dependent. A per-team
/// advisory lock serialises DAG writers of one team (other teams run in parallel), which closes that gap; the
/// task's version column still rejects writes based on a stale read.
/// </summary>
public static class TaskTransaction
{
    public static async Task<IDbContextTransaction> BeginAsync(AppDbContext db, Guid teamId, CancellationToken ct)
    {
        var tx = await db.Database.BeginTransactionAsync(ct);
        if (db.IsPostgres)
        {
            var key = LockKey(teamId);
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({key})", ct);
        }
        return tx;
    }

    /// <summary>
    /// The transaction for a change of one task, whose team the caller does not know yet. PostgreSQL needs the team
    /// first, for its lock (404 when the task does not exist); SQLite's BEGIN IMMEDIATE already serialises every
    /// writer, so the task is simply read inside the transaction (one query fewer on every status change).
    /// </summary>
    public static async Task<IDbContextTransaction> BeginForTaskAsync(AppDbContext db, long taskId, CancellationToken ct) =>
        db.IsPostgres
            ? await BeginAsync(db, await TaskLoad.TeamOfAsync(db, taskId, ct), ct)
            : await db.Database.BeginTransactionAsync(ct);

    // A stable 64-bit key per team (advisory locks take a bigint).
    private static long LockKey(Guid teamId)
    {
        var b = teamId.ToByteArray();
        return BitConverter.ToInt64(b, 0) ^ BitConverter.ToInt64(b, 8);
    }
}
