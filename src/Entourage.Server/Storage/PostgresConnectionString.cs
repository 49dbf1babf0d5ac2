using Npgsql;

namespace Entourage.Server.Storage;

/// <summary>Accepts both Npgsql key=value strings and postgres:// URLs, as users paste either.</summary>
public static class PostgresConnectionString
{
    /// <summary>Statements kept prepared per pooled connection unless the connection string sets its own limit.</summary>
    public const int DefaultMaxAutoPrepare = 64;

    /// <summary>
    /// The store's own pool: <see cref="Normalize"/> plus two settings, each kept when the connection string sets it:
    /// <list type="bullet">
    /// <item>Automatic preparation (Npgsql's <c>Max Auto Prepare</c>). The dispatch path runs the same handful of
    /// statements on every message and claim, several with CTEs whose planning cost more than their execution;
    /// prepared after a few uses, they skip parsing and planning (measured on an idle 2-core box: the claim 3.0 →
    /// 1.7 ms, the message statement 2.9 → 2.1 ms). Schema changes happen only in migrations, at start, before any
    /// statement is prepared.</item>
    /// <item>No session reset when a connection goes back to the pool (<c>No Reset On Close</c>). Npgsql otherwise
    /// sends <c>RESET ALL; CLOSE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD …</c> ahead of the next
    /// command of every reused connection: 0.17 ms of the server's time (its log, p50) in front of the first
    /// statement of every request and dispatcher pass. The pool never holds session state to reset: its advisory
    /// locks are all transaction-scoped, and the connections that LISTEN or hold a session lock (the doorbell, the
    /// node's name) are unpooled. An open transaction is still rolled back when its connection is returned.</item>
    /// </list>
    /// </summary>
    public static string ForStore(string value)
    {
        var normalized = Normalize(value);
        var b = new NpgsqlConnectionStringBuilder(normalized);
        if (b.MaxAutoPrepare == 0) b.MaxAutoPrepare = DefaultMaxAutoPrepare;
        if (!Sets(normalized, "No Reset On Close", "NoResetOnClose")) b.NoResetOnClose = true;
        return b.ConnectionString;
    }

    /// <summary>Whether the string itself names the setting (Npgsql's builder reports every known keyword as present).</summary>
    private static bool Sets(string connectionString, params string[] keywords)
    {
        var plain = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return keywords.Any(k => plain.Keys.Cast<string>().Any(present => string.Equals(present, k, StringComparison.OrdinalIgnoreCase)));
    }

    public static string Normalize(string value)
    {
        if (!value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) &&
            !value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return value;

        var uri = new Uri(value);
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1) b.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            b[Uri.UnescapeDataString(kv[0])] = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "";
        }
        return b.ConnectionString;
    }
}
