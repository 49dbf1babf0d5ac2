namespace Entourage.Server.Hosting;

/// <summary>
/// Whether a failure means the database is unavailable for a moment (PostgreSQL down, restarting, refusing
/// connections, a dropped connection; SQLite busy or locked past its timeout) rather than a fault of the request or
/// of the server. Those are answered 503 with Retry-After, so clients (the CLI, agents, scripts) retry instead of
/// reporting a server bug.
/// </summary>
public static class StoreUnavailable
{
    /// <summary>Seconds a client should wait before retrying (Retry-After).</summary>
    public const int RetryAfterSeconds = 5;

    private const int SqliteBusy = 5, SqliteLocked = 6;

    public static bool IsTransient(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case Npgsql.NpgsqlException { IsTransient: true }:
                case Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked }:
                    return true;
                case AggregateException many when many.InnerExceptions.Any(IsTransient):
                    return true;
            }
        }
        return false;
    }
}
