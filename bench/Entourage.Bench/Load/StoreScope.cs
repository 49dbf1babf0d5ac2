using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Entourage.Bench.Load;

/// <summary>
/// A fresh store for one scenario: a temporary SQLite data directory, or a new PostgreSQL database created from
/// the admin connection string (dropped at the end). Gives the settings a server needs to use it and, for reading
/// results after (or during) a run, the server's own EF model over the same store.
/// </summary>
public sealed class StoreScope : IAsyncDisposable
{
    private ServiceProvider? _services;

    private readonly string? _admin;

    private StoreScope(string name, string dir, string? postgres, string? admin = null)
    {
        _admin = admin;
        Name = name;
        Directory = dir;
        Postgres = postgres;
    }

    public string Name { get; }

    /// <summary>Scratch folder of the scenario; the SQLite data directory is <c>{Directory}/data</c>.</summary>
    public string Directory { get; }

    public string? Postgres { get; }

    public bool IsPostgres => Postgres is not null;

    public string DataDirectory => Path.Combine(Directory, "data");

    public static async Task<StoreScope> CreateAsync(string store, string? pgAdmin)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("entourage-load-").FullName;
        if (store == "sqlite") return new StoreScope("SQLite", dir, null);
        var b = new NpgsqlConnectionStringBuilder(pgAdmin ?? throw new InvalidOperationException("PostgreSQL needs ENTOURAGE_TEST_POSTGRES."));
        var name = "ent_load_" + Guid.NewGuid().ToString("N")[..12];
        await using (var conn = new NpgsqlConnection(b.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        b.Database = name;
        return new StoreScope("PostgreSQL", dir, b.ConnectionString, pgAdmin);
    }

    /// <summary>Configuration keys (as ENTOURAGE__ environment variables or in-memory settings) that point a server here.</summary>
    public Dictionary<string, string> ServerSettings()
    {
        var s = new Dictionary<string, string> { ["Storage:DataDirectory"] = DataDirectory };
        if (Postgres is not null) s["Storage:DatabaseUrl"] = Postgres;
        return s;
    }

    /// <summary>The server's EF model over this store, without starting a server (no migrations, no SQLite lock).</summary>
    public IDbContextFactory<AppDbContext> Factory()
    {
        if (_services is null)
        {
            var config = new ConfigurationBuilder().AddInMemoryCollection(ServerSettings().Select(kv => KeyValuePair.Create(kv.Key, (string?)kv.Value))).Build();
            _services = new ServiceCollection().AddLogging().AddSingleton(TimeProvider.System).AddEntourageStorage(config).BuildServiceProvider();
        }
        return _services.GetRequiredService<IDbContextFactory<AppDbContext>>();
    }

    public async ValueTask DisposeAsync()
    {
        if (_services is not null) await _services.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Postgres is not null)
        {
            var name = new NpgsqlConnectionStringBuilder(Postgres).Database;
            try
            {
                await using var conn = new NpgsqlConnection(_admin);
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", conn);
                await cmd.ExecuteNonQueryAsync();
            }
            catch (NpgsqlException ex)
            {
                await Console.Error.WriteLineAsync($"note: could not drop {name}: {ex.Message}");
            }
        }
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
