using Entourage.Server.Storage;

namespace Entourage.Server.Dispatch;

/// <summary>Dispatcher: doorbell, claims, leases, sweeper (issue #4).</summary>
public static class DispatchRegistration
{
    public static IServiceCollection AddEntourageDispatch(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<DispatchOptions>().Bind(config.GetSection("Dispatch"));
        services.AddSingleton<Doorbell>();
        services.AddSingleton<NodeIdentity>();
        services.AddSingleton<LocalTurns>();
        services.AddSingleton<BudgetGuard>();
        services.AddSingleton<ServerAddress>();
        services.AddSingleton<Claimer>();
        services.AddSingleton<TurnCompletion>();
        services.AddSingleton<Runners.TurnWorkspace>();
        services.AddSingleton<TurnPreparation>();
        services.AddSingleton<TurnRunner>();

        var storage = new StorageOptions();
        config.GetSection("Storage").Bind(storage);
        storage.DatabaseUrl ??= config["ENTOURAGE_DATABASE_URL"] is { Length: > 0 } u ? u : null;

        services.AddHostedService<FeedDoorbell>();
        if (storage.UsePostgres)
        {
            services.AddSingleton<PgListener>();
            services.AddHostedService(sp => sp.GetRequiredService<PgListener>());
        }
        services.AddSingleton<LeaseSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<LeaseSweeper>());
        services.AddHostedService<TaskCancellationWatcher>();
        if (config.GetValue("Dispatch:Enabled", true))
        {
            services.AddSingleton<Dispatcher>();
            services.AddHostedService(sp => sp.GetRequiredService<Dispatcher>());
        }
        return services;
    }
}
