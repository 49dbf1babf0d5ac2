using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Storage;

public static class StorageRegistration
{
    /// <summary>
    /// Registers <see cref="AppDbContext"/> (scoped) and <see cref="IDbContextFactory{AppDbContext}"/> (for
    /// background loops) on SQLite by default or PostgreSQL when ENTOURAGE_DATABASE_URL is set.
    /// </summary>
    public static IServiceCollection AddEntourageStorage(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<StorageOptions>()
            .Bind(config.GetSection("Storage"))
            .PostConfigure(o => o.DatabaseUrl ??= config["ENTOURAGE_DATABASE_URL"] is { Length: > 0 } url ? url : null);

        var options = new StorageOptions();
        config.GetSection("Storage").Bind(options);
        options.DatabaseUrl ??= config["ENTOURAGE_DATABASE_URL"] is { Length: > 0 } u ? u : null;

        services.AddSingleton<ChangeFeed>();
        services.AddSingleton<ChangeInterceptor>();

        if (options.UsePostgres)
        {
            var cs = PostgresConnectionString.ForStore(options.DatabaseUrl!);
            services.AddPooledDbContextFactory<PostgresDbContext>((sp, o) => o
                .UseNpgsql(cs, n => n.MigrationsHistoryTable("__ef_migrations_history"))
                .UseSnakeCaseNamingConvention()
                .AddInterceptors(sp.GetRequiredService<ChangeInterceptor>()));
            services.AddSingleton<IDbContextFactory<AppDbContext>>(sp =>
                new Upcast<PostgresDbContext>(sp.GetRequiredService<IDbContextFactory<PostgresDbContext>>()));
        }
        else
        {
            var cs = new SqliteConnectionStringBuilder
            {
                DataSource = options.SqlitePath,
                Cache = SqliteCacheMode.Private,
                Pooling = true,
                DefaultTimeout = 30,
            }.ToString();
            services.AddSingleton(new SqliteConnectionInterceptor());
            services.AddPooledDbContextFactory<SqliteDbContext>((sp, o) => o
                .UseSqlite(cs, s => s.MigrationsHistoryTable("__ef_migrations_history"))
                .UseSnakeCaseNamingConvention()
                .AddInterceptors(sp.GetRequiredService<ChangeInterceptor>(), sp.GetRequiredService<SqliteConnectionInterceptor>()));
            services.AddSingleton(_ => new SqliteConnections(cs));
            services.AddSingleton<IDbContextFactory<AppDbContext>>(sp =>
                new Lending(sp.GetRequiredService<IDbContextFactory<SqliteDbContext>>(), sp.GetRequiredService<SqliteConnections>()));
        }

        services.AddScoped<AppDbContext>(sp => sp.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext());
        services.AddHostedService<DatabaseStartup>();
        return services;
    }

    /// <summary>SQLite's <see cref="Upcast{T}"/>: each lease runs on an always-open connection (<see cref="SqliteConnections"/>).</summary>
    private sealed class Lending(IDbContextFactory<SqliteDbContext> inner, SqliteConnections connections) : IDbContextFactory<AppDbContext>
    {
        private readonly Upcast<SqliteDbContext> _upcast = new(inner);

        public AppDbContext CreateDbContext()
        {
            var db = (SqliteDbContext)_upcast.CreateDbContext();
            db.Lend(connections);
            return db;
        }
    }

    private sealed class Upcast<T>(IDbContextFactory<T> inner) : IDbContextFactory<AppDbContext> where T : AppDbContext
    {
        public AppDbContext CreateDbContext()
        {
            var db = inner.CreateDbContext();
            // EF wraps every SaveChanges inside an explicit transaction in a savepoint (SAVEPOINT … RELEASE: two more
            // round trips per save on PostgreSQL), so that a failed save could be retried within it. Nothing here
            // continues a transaction after a failed save: every such failure rolls the whole transaction back.
            // (Set per lease: the context pool restores the default when a context is returned.)
            db.Database.AutoSavepointsEnabled = false;
            return db;
        }
    }
}
