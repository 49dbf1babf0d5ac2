using Entourage.Server.Hosting;
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
            try { await LockAsync(db, teamId, ct); }
            catch
            {
                await tx.DisposeAsync();
                throw;
            }
        }
        return tx;
    }

    /// <summary>
    /// The transaction for a change of one task, whose team the caller does not know yet. PostgreSQL needs the team
    /// first, for its lock (404 when the task does not exist): read inside the transaction (a task never changes
    /// team), so both statements are plain commands on its connection. SQLite's BEGIN IMMEDIATE already serialises
    /// every writer, so the task is simply read inside the transaction by the caller.
    /// </summary>
    public static async Task<IDbContextTransaction> BeginForTaskAsync(AppDbContext db, long taskId, CancellationToken ct)
    {
        var tx = await db.Database.BeginTransactionAsync(ct);
        if (!db.IsPostgres) return tx;
        try
        {
            await using var cmd = TaskSql.Command(db, "SELECT team_id FROM tasks WHERE id = @id").With("id", taskId);
            var team = await cmd.ExecuteScalarAsync(ct) as Guid? ?? throw ApiProblem.NotFound("task", taskId);
            await LockAsync(db, team, ct);
            return tx;
        }
        catch
        {
            await tx.DisposeAsync();
            throw;
        }
    }

    private static async Task LockAsync(AppDbContext db, Guid teamId, CancellationToken ct)
    {
        await using var cmd = TaskSql.Command(db, "SELECT pg_advisory_xact_lock(@key)").With("key", LockKey(teamId));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    // A stable 64-bit key per team (advisory locks take a bigint).
    private static long LockKey(Guid teamId)
    {
        var b = teamId.ToByteArray();
        return BitConverter.ToInt64(b, 0) ^ BitConverter.ToInt64(b, 8);
    }
}
