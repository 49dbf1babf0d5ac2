using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Design;

namespace Entourage.Server.Storage;

/// <summary>
/// The SQLite context. For each lease it runs on a connection lent by <see cref="SqliteConnections"/> (already open, so
/// EF never closes it and its prepared statements are kept), handed back when the lease ends.
/// </summary>
public sealed class SqliteDbContext(DbContextOptions<SqliteDbContext> options) : AppDbContext(options)
{
    private (SqliteConnections Pool, Microsoft.Data.Sqlite.SqliteConnection Connection)? _lent;

    /// <summary>Runs this lease on a connection from <paramref name="pool"/>; called as the lease starts.</summary>
    internal void Lend(SqliteConnections pool)
    {
        var connection = pool.Rent();
        Database.SetDbConnection(connection, contextOwnsConnection: false);
        _lent = (pool, connection);
    }

    public override void Dispose()
    {
        GiveBack();
        base.Dispose();
    }

    public override async ValueTask DisposeAsync()
    {
        GiveBack();
        await base.DisposeAsync();
    }

    /// <summary>
    /// Before the lease ends (a pooled context is reused by the next lease at once): a transaction left open is rolled
    /// back, and the connection goes back to its pool, no longer this context's.
    /// </summary>
    private void GiveBack()
    {
        if (_lent is not var (pool, connection)) return;
        _lent = null;
        Database.CurrentTransaction?.Dispose();
        Database.SetDbConnection(null, contextOwnsConnection: false);
        pool.Return(connection);
    }
}

public sealed class PostgresDbContext(DbContextOptions<PostgresDbContext> options) : AppDbContext(options);

// Design-time factories for `dotnet ef migrations add … --context SqliteDbContext|PostgresDbContext`.
internal sealed class SqliteDesignFactory : IDesignTimeDbContextFactory<SqliteDbContext>
{
    public SqliteDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteDbContext>().UseSqlite("Data Source=design.db").UseSnakeCaseNamingConvention().Options);
}

internal sealed class PostgresDesignFactory : IDesignTimeDbContextFactory<PostgresDbContext>
{
    public PostgresDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresDbContext>().UseNpgsql("Host=localhost").UseSnakeCaseNamingConvention().Options);
}
