using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Storage;

/// <summary>
/// Applies the provider's migrations before the server takes requests (retrying while PostgreSQL comes up),
/// takes the single-process lock on SQLite, and seeds the "default" org the spec's first curl needs.
/// Runs as the first hosted service, so StartAsync completes before Kestrel listens.
/// </summary>
public sealed partial class DatabaseStartup(
    IDbContextFactory<AppDbContext> factory,
    IOptions<StorageOptions> options,
    TimeProvider clock,
    ILogger<DatabaseStartup> logger) : IHostedService, IDisposable
{
    /// <summary>
    /// Attempts made even when the window has passed: on a starved machine one connection attempt (15 s connect
    /// timeout, several round trips to migrate) can outlast the whole window, which left no retry at all.
    /// </summary>
    private const int MinAttempts = 3;

    private SqliteSingleProcessLock? _lock;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!o.UsePostgres) _lock = SqliteSingleProcessLock.Acquire(o.SqlitePath);

        var deadline = clock.GetUtcNow() + o.StartupRetryWindow;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var db = await factory.CreateDbContextAsync(cancellationToken);
                // Npgsql's migrator reads the history table before it exists and logs the "relation does not exist" it
                // expects as an error (npgsql/efcore.pg#3407): every first start on PostgreSQL printed "fail: ... Failed
                // executing DbCommand". Created first, with EF's own script, it is there to read.
                if (o.UsePostgres) await db.Database.ExecuteSqlRawAsync(db.GetService<IHistoryRepository>().GetCreateIfNotExistsScript(), cancellationToken);
                await db.Database.MigrateAsync(cancellationToken);
                await SeedAsync(db, cancellationToken);
                LogReady(logger, o.UsePostgres ? "PostgreSQL" : o.SqlitePath);
                return;
            }
            catch (Exception ex) when (o.UsePostgres && IsTransient(ex) && (attempt < MinAttempts || clock.GetUtcNow() < deadline) && !cancellationToken.IsCancellationRequested)
            {
                LogRetry(logger, attempt, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 250 * attempt)), clock, cancellationToken);
            }
        }
    }

    private static bool IsTransient(Exception ex) =>
        ex is Npgsql.NpgsqlException or System.Net.Sockets.SocketException or TimeoutException ||
        (ex.InnerException is not null && IsTransient(ex.InnerException));

    private async Task SeedAsync(AppDbContext db, CancellationToken ct)
    {
        if (await db.Orgs.AnyAsync(o => o.Slug == "default", ct)) return;
        db.Orgs.Add(new Org { Id = Guid.CreateVersion7(), Name = "Default", Slug = "default", CreatedAt = clock.GetUtcNow().UtcDateTime });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Another node seeded it first (unique slug); that is fine.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _lock?.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Database ready ({Store}).")]
    private static partial void LogReady(ILogger logger, string store);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database not reachable yet (attempt {Attempt}): {Error}. Retrying.")]
    private static partial void LogRetry(ILogger logger, int attempt, string error);
}
