using Npgsql;

namespace Entourage.Tests.Infrastructure;

/// <summary>
/// A fresh PostgreSQL database per test server, created from ENTOURAGE_TEST_POSTGRES (scripts/test.sh sets it
/// and starts the machine's PostgreSQL). Without it the Postgres tests fail with instructions, never skip
/// silently.
/// </summary>
public static class PostgresTestDatabase
{
    public const string EnvVar = "ENTOURAGE_TEST_POSTGRES";

    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable(EnvVar) is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException(
                $"{EnvVar} is not set. PostgreSQL tests need a server: run scripts/test.sh, or `source scripts/pg-test-env.sh` before `dotnet test`.");

    public static async Task<string> CreateAsync(CancellationToken ct = default)
    {
        var admin = new NpgsqlConnectionStringBuilder(AdminConnectionString);
        // The pid lets scripts/pg-test-env.sh drop only the leftovers of test processes that are gone.
        var name = $"ent_t_{Environment.ProcessId}_{Guid.NewGuid().ToString("N")[..16]}";
        await using (var conn = new NpgsqlConnection(admin.ConnectionString))
        {
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        admin.Database = name;
        admin.Pooling = true;
        return admin.ConnectionString;
    }

    public static async Task DropAsync(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        var name = b.Database!;
        NpgsqlConnection.ClearAllPools();
        var admin = new NpgsqlConnectionStringBuilder(AdminConnectionString);
        await using var conn = new NpgsqlConnection(admin.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", conn);
        try
        {
            await cmd.ExecuteNonQueryAsync();
        }
        catch (PostgresException ex)
        {
            // Clean-up is best effort: a test that passed must not fail because a backend outlived it.
            // scripts/pg-test-env.sh drops leftover ent_t_* databases at the start of the next run.
            await Console.Error.WriteLineAsync($"note: could not drop test database {name}: {ex.MessageText}");
        }
    }
}
