using Entourage.Server.Storage;
using Entourage.Tests.Dispatch;
using Entourage.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Entourage.Tests.Storage;

/// <summary>
/// SQLite contexts run on always-open connections (<see cref="SqliteConnections"/>), and the hand-written statements
/// are kept prepared per connection (<see cref="SqliteStatements"/>). A kept command must never be shared by two
/// callers at once, never carry one caller's parameters or text to the next, and never outlive its connection's close
/// (Microsoft.Data.Sqlite disposes a closing connection's commands; one used again would keep its statements on the
/// handle it re-prepared on).
/// </summary>
public sealed class SqliteStatementsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("entourage-stmts-").FullName;

    private SqliteConnection Open()
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_dir, "t.db"), Pooling = false }.ToString());
        c.Open();
        return c;
    }

    [Fact]
    public void A_command_is_kept_for_its_text_and_handed_to_one_caller_at_a_time()
    {
        using var c = Open();
        var first = c.Command(null, "SELECT @x");
        first.ShouldBeOfType<SqliteStatements.Reused>();
        first.With("x", 1).ExecuteScalar().ShouldBe(1L);
        // Still in use (not disposed): a second caller gets a command of its own.
        using (var second = c.Command(null, "SELECT @x")) second.ShouldNotBeSameAs(first);
        first.Dispose();

        using var again = c.Command(null, "SELECT @x");
        again.ShouldBeSameAs(first, "the kept command, given back by its first caller");
        again.Parameters.Count.ShouldBe(0, "the last caller's parameters are cleared");
        again.With("x", 2).ExecuteScalar().ShouldBe(2L);
    }

    [Fact]
    public void A_caller_that_changes_the_text_does_not_change_what_the_next_caller_runs()
    {
        using var c = Open();
        using (var cmd = c.Command(null, "SELECT 1"))
        {
            cmd.CommandText = "SELECT 2";
            cmd.ExecuteScalar().ShouldBe(2L);
        }
        using var next = c.Command(null, "SELECT 1");
        next.ExecuteScalar().ShouldBe(1L);
    }

    [Fact]
    public void A_connection_that_closes_drops_its_kept_commands()
    {
        using var c = Open();
        var kept = c.Command(null, "SELECT 1");
        kept.Dispose();
        c.Close();
        c.Open();
        using var after = c.Command(null, "SELECT 1");
        after.ShouldNotBeSameAs(kept);
        after.ExecuteScalar().ShouldBe(1L);
    }

    [Fact]
    public async Task Sqlite_contexts_run_on_open_connections_that_outlive_their_lease()
    {
        await using var s = await TestServer.StartAsync(Store.Sqlite);
        var factory = s.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        SqliteConnection first;
        await using (var db = factory.CreateDbContext())
        {
            first = (SqliteConnection)db.Database.GetDbConnection();
            first.State.ShouldBe(System.Data.ConnectionState.Open, "lent open, so EF never closes it");
            await using (var tx = await db.Database.BeginTransactionAsync(TestContext.Current.CancellationToken)) await tx.CommitAsync(TestContext.Current.CancellationToken);
            first.State.ShouldBe(System.Data.ConnectionState.Open, "a transaction's end does not close it");
            // A transaction left open by a lease is rolled back when it ends, before the connection is lent again.
            await db.Database.BeginTransactionAsync(TestContext.Current.CancellationToken);
        }
        first.State.ShouldBe(System.Data.ConnectionState.Open, "back in the pool, still open");
        await using var next = factory.CreateDbContext();
        await using var tx2 = await next.Database.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await tx2.CommitAsync(TestContext.Current.CancellationToken);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
