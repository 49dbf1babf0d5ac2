using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Npgsql;
using Shouldly;

namespace Entourage.Tests.Storage;

/// <summary>
/// The store's pool skips Npgsql's session reset on return (PostgresConnectionString.ForStore). That is safe only
/// because nothing leaks from one use of a pooled connection to the next: a transaction left open is still rolled
/// back, and the pool holds no session state. These check it against a real server, on one physical connection.
/// </summary>
public sealed class PostgresPoolTests : IAsyncLifetime
{
    private string _db = "";

    public async ValueTask InitializeAsync() => _db = await PostgresTestDatabase.CreateAsync();

    public async ValueTask DisposeAsync() => await PostgresTestDatabase.DropAsync(_db);

    [Fact]
    public void The_store_pool_prepares_and_skips_the_reset_unless_the_connection_string_says_otherwise()
    {
        var b = new NpgsqlConnectionStringBuilder(PostgresConnectionString.ForStore("Host=h;Username=u;Database=d"));
        b.NoResetOnClose.ShouldBeTrue();
        b.MaxAutoPrepare.ShouldBe(PostgresConnectionString.DefaultMaxAutoPrepare);

        var own = new NpgsqlConnectionStringBuilder(PostgresConnectionString.ForStore("Host=h;Username=u;Database=d;No Reset On Close=false;Max Auto Prepare=5"));
        own.NoResetOnClose.ShouldBeFalse();
        own.MaxAutoPrepare.ShouldBe(5);
        new NpgsqlConnectionStringBuilder(PostgresConnectionString.ForStore("postgres://u:p@h/d?NoResetOnClose=false")).NoResetOnClose.ShouldBeFalse();
    }

    [Fact]
    public async Task A_connection_returned_with_its_transaction_open_comes_back_rolled_back_and_idle()
    {
        var cs = new NpgsqlConnectionStringBuilder(PostgresConnectionString.ForStore(_db)) { MaxPoolSize = 1 }.ConnectionString;
        await using (var setup = new NpgsqlConnection(cs))
        {
            await setup.OpenAsync(TestContext.Current.CancellationToken);
            await Exec(setup, "CREATE TABLE pool_probe (id int)");
        }

        int pid;
        await using (var first = new NpgsqlConnection(cs))
        {
            await first.OpenAsync(TestContext.Current.CancellationToken);
            pid = first.ProcessID;
            // An EF transaction abandoned by an exception: BEGIN, a write, then the connection goes back unended.
            var tx = await first.BeginTransactionAsync(TestContext.Current.CancellationToken);
            await Exec(first, "INSERT INTO pool_probe VALUES (1)", tx);
            await Exec(first, "SELECT pg_advisory_xact_lock(42)", tx);
        }

        await using var second = new NpgsqlConnection(cs);
        await second.OpenAsync(TestContext.Current.CancellationToken);
        second.ProcessID.ShouldBe(pid, "the pool should hand back the same physical connection");
        (await Scalar(second, "SELECT COUNT(*) FROM pool_probe")).ShouldBe(0L);
        // Not inside the abandoned transaction: a new one can start, and the transaction-scoped lock went with it.
        (await Scalar(second, "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")).ShouldBe(0L);
        await using var tx2 = await second.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await tx2.CommitAsync(TestContext.Current.CancellationToken);
    }

    private static async Task Exec(NpgsqlConnection conn, string sql, NpgsqlTransaction? tx = null)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<object?> Scalar(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync(TestContext.Current.CancellationToken);
    }
}
