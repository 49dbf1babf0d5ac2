namespace Entourage.Server.Dispatch;

/// <summary>Dispatcher: doorbell, claims, leases, sweeper (issue #4).</summary>
public static class DispatchRegistration
{
    public static IServiceCollection AddEntourageDispatch(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton<Doorbell>();
        return services;
    }
}
