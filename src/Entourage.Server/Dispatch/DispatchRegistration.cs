using Entourage.Server.Storage;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Dispatch;

/// <summary>Dispatcher: doorbell, claims, leases, sweeper (issue #4).</summary>
public static class DispatchRegistration
{
    /// <summary>Stop budget beyond the drain: killing what is left, recording the clean stop, stopping the web server.</summary>
    public static readonly TimeSpan DrainMargin = TimeSpan.FromSeconds(15);

    public static IServiceCollection AddEntourageDispatch(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<DispatchOptions>().Bind(config.GetSection("Dispatch"));
        // The soft stop drains inside the host's stop budget (HostOptions.ShutdownTimeout, 30 s by default): a
        // drain longer than that budget was cut short by the host's token, so turns finishing within the configured
        // Dispatch:ShutdownTimeoutSeconds were killed and released. Give the host the drain plus room for the rest.
        services.AddOptions<HostOptions>().PostConfigure<IOptions<DispatchOptions>>((host, dispatch) =>
        {
            var needed = TimeSpan.FromSeconds(Math.Max(0, dispatch.Value.ShutdownTimeoutSeconds)) + DrainMargin;
            if (host.ShutdownTimeout != Timeout.InfiniteTimeSpan && host.ShutdownTimeout < needed) host.ShutdownTimeout = needed;
        });
        services.AddSingleton<Doorbell>();
        services.AddSingleton<NodeIdentity>();
        services.AddSingleton<BudgetGuard>();
        services.AddSingleton<ServerAddress>();
        services.AddSingleton<Claimer>();
        services.AddSingleton<TurnCompletion>();
        services.AddSingleton<TurnLedger>();
        services.AddSingleton<TurnAssignments>();
        services.AddSingleton<LocalTurnStarter>();
        services.AddSingleton<TurnSlots>();
        AddTurnExecution(services);

        var storage = new StorageOptions();
        config.GetSection("Storage").Bind(storage);
        storage.DatabaseUrl ??= config["ENTOURAGE_DATABASE_URL"] is { Length: > 0 } u ? u : null;

        if (storage.UsePostgres)
        {
            // First of this area's services: the node id takes its stable name before anything reads it.
            services.AddSingleton<NodeNameLock>();
            services.AddHostedService(sp => sp.GetRequiredService<NodeNameLock>());
        }
        services.AddHostedService<FeedDoorbell>();
        if (storage.UsePostgres)
        {
            services.AddSingleton<PgListener>();
            services.AddHostedService(sp => sp.GetRequiredService<PgListener>());
        }
        services.AddSingleton<LeaseSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<LeaseSweeper>());
        services.AddHostedService<TaskCancellationWatcher>();
        if (config["Dispatch:Role"] == "runner") services.AddHostedService<Runners.WorktreeJanitor>();
        if (config.GetValue("Dispatch:Enabled", true))
        {
            services.AddSingleton<Dispatcher>();
            services.AddHostedService(sp => sp.GetRequiredService<Dispatcher>());
        }
        return services;
    }

    /// <summary>What runs a turn on a machine, with or without a database (an HTTP runner registers only these).</summary>
    public static IServiceCollection AddTurnExecution(IServiceCollection services)
    {
        services.AddSingleton<LocalTurns>();
        services.AddSingleton<Runners.RunnerWorktrees>();
        services.AddSingleton<Runners.TurnWorkspace>();
        services.AddSingleton<TurnPreparation>();
        services.AddSingleton<TurnRunner>();
        return services;
    }
}
