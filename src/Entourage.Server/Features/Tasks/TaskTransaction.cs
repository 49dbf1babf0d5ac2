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
    /// first, for its lock (404 when the task does not exist): one statement inside the transaction finds the team
    /// and takes its lock, with the key computed in SQL (<see cref="LockKeySql"/>; a task never changes team, and
    /// the caller's next statement reads the row under the lock). A round trip is ~1 ms on a loaded box, and this
    /// was two more on every status change. SQLite's BEGIN IMMEDIATE already serialises every writer, so the task
    /// is simply read inside the transaction by the caller.
    /// </summary>
    public static async Task<IDbContextTransaction> BeginForTaskAsync(AppDbContext db, long taskId, CancellationToken ct)
    {
        var tx = await db.Database.BeginTransactionAsync(ct);
        if (!db.IsPostgres) return tx;
        try
        {
            await using var cmd = db.Command($"SELECT t.team_id, pg_advisory_xact_lock({LockKeySql("t.team_id")}) FROM tasks t WHERE t.id = @id")
                .With("id", taskId);
            _ = await cmd.ExecuteScalarAsync(ct) as Guid? ?? throw ApiProblem.NotFound("task", taskId);
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
        await using var cmd = db.Command("SELECT pg_advisory_xact_lock(@key)").With("key", LockKey(teamId));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    // A stable 64-bit key per team (advisory locks take a bigint).
    internal static long LockKey(Guid teamId)
    {
        var b = teamId.ToByteArray();
        return BitConverter.ToInt64(b, 0) ^ BitConverter.ToInt64(b, 8);
    }

    /// <summary>
    /// <see cref="LockKey"/> as a PostgreSQL expression over a uuid expression (tested equal: both must name the
    /// same lock). .NET's byte order puts the uuid's first three groups little-endian: the first half, read as a
    /// little-endian int64, is hex digits 13-16, 9-12, 1-8; the second half is digits 17-32 byte-reversed.
    /// </summary>
    internal static string LockKeySql(string uuid)
    {
        var hex = $"translate({uuid}::text, '-', '')";
        string Digits(int from, int count) => $"substr({hex}, {from}, {count})";
        var low = $"{Digits(13, 4)} || {Digits(9, 4)} || {Digits(1, 8)}";
        var high = string.Join(" || ", Enumerable.Range(0, 8).Select(i => Digits(31 - 2 * i, 2)));
        return $"(('x' || {low})::bit(64)::bigint # ('x' || {high})::bit(64)::bigint)";
    }
}
