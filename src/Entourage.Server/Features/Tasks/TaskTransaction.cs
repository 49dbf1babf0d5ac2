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

    // A stable 64-bit key per team (advisory locks take a bigint).
    private static long LockKey(Guid teamId)
    {
        var b = teamId.ToByteArray();
        return BitConverter.ToInt64(b, 0) ^ BitConverter.ToInt64(b, 8);
    }
}
