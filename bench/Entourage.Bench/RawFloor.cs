using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Entourage.Bench;

/// <summary>
/// (a) The floor any dispatcher pays: insert a row and ring, wake the waiter, claim the row. PostgreSQL: INSERT +
/// NOTIFY, a LISTEN connection wakes, a SKIP LOCKED claim on a third connection. SQLite: INSERT, an in-process
/// signal, a claim in a BEGIN IMMEDIATE transaction. <c>isolated</c>: samples 10 ms apart, as (b)–(d) are
/// (<see cref="Sampling"/>); otherwise back to back.
/// </summary>
public static class RawFloor
{
    public static async Task<List<double>> PostgresAsync(string cs, int n, bool isolated)
    {
        await using (var setup = new NpgsqlConnection(cs))
        {
            await setup.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS bench_raw (id bigserial PRIMARY KEY, state text NOT NULL DEFAULT 'pending')", setup);
            await cmd.ExecuteNonQueryAsync();
        }
        await using var listener = new NpgsqlConnection(cs);
        await using var writer = new NpgsqlConnection(cs);
        await using var claimer = new NpgsqlConnection(cs);
        await Task.WhenAll(listener.OpenAsync(), writer.OpenAsync(), claimer.OpenAsync());
        var woke = new SemaphoreSlim(0);
        listener.Notification += (_, _) => woke.Release();
        await using (var l = new NpgsqlCommand("LISTEN bench_raw", listener)) await l.ExecuteNonQueryAsync();
        using var stop = new CancellationTokenSource();
        var pump = Task.Run(async () =>
        {
            try { while (true) await listener.WaitAsync(stop.Token); }
            catch (OperationCanceledException) { }
        });
        var results = new List<double>(n);
        await using var insert = new NpgsqlCommand("INSERT INTO bench_raw DEFAULT VALUES; NOTIFY bench_raw", writer);
        await using var claim = new NpgsqlCommand("""
            UPDATE bench_raw SET state = 'claimed' WHERE id IN
              (SELECT id FROM bench_raw WHERE state = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id
            """, claimer);
        for (var i = 0; i < n; i++)
        {
            if (isolated) await Sampling.SettleAsync();
            var sw = Stopwatch.StartNew();
            await insert.ExecuteNonQueryAsync();
            await woke.WaitAsync();
            var id = await claim.ExecuteScalarAsync();
            sw.Stop();
            if (id is null) throw new InvalidOperationException("raw claim found nothing");
            results.Add(sw.Elapsed.TotalMilliseconds);
        }
        await stop.CancelAsync();
        await pump;
        return results;
    }

    public static async Task<List<double>> SqliteAsync(string path, int n, bool isolated)
    {
        var cs = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
        await using var writer = new SqliteConnection(cs);
        await using var claimer = new SqliteConnection(cs);
        await writer.OpenAsync();
        await claimer.OpenAsync();
        foreach (var sql in new[] { "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY AUTOINCREMENT, state TEXT NOT NULL DEFAULT 'pending')" })
        {
            await using var c = writer.CreateCommand();
            c.CommandText = sql;
            await c.ExecuteNonQueryAsync();
        }
        // Measured to the claim's commit, as (b) and (c) are, not to this loop's wake-up after it.
        long claimedAt = 0;
        var bell = new SemaphoreSlim(0);
        var claimed = new SemaphoreSlim(0);
        using var stop = new CancellationTokenSource();
        var waiter = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await bell.WaitAsync(stop.Token);
                    await using var tx = claimer.BeginTransaction(deferred: false);
                    await using var c = claimer.CreateCommand();
                    c.Transaction = tx;
                    c.CommandText = "UPDATE bench_raw SET state = 'claimed' WHERE id IN (SELECT id FROM bench_raw WHERE state = 'pending' ORDER BY id LIMIT 1) RETURNING id";
                    await c.ExecuteScalarAsync();
                    await tx.CommitAsync();
                    Volatile.Write(ref claimedAt, Stopwatch.GetTimestamp());
                    claimed.Release();
                }
            }
            catch (OperationCanceledException) { }
        });
        var results = new List<double>(n);
        for (var i = 0; i < n; i++)
        {
            if (isolated) await Sampling.SettleAsync();
            var start = Stopwatch.GetTimestamp();
            await using (var tx = writer.BeginTransaction(deferred: false))
            {
                await using var c = writer.CreateCommand();
                c.Transaction = tx;
                c.CommandText = "INSERT INTO bench_raw DEFAULT VALUES";
                await c.ExecuteNonQueryAsync();
                await tx.CommitAsync();
            }
            bell.Release();
            await claimed.WaitAsync();
            results.Add(Stopwatch.GetElapsedTime(start, Volatile.Read(ref claimedAt)).TotalMilliseconds);
        }
        await stop.CancelAsync();
        await waiter;
        return results;
    }
}
