namespace Entourage.Server.Features.HumanRequests;

public static class HumanRequestsRegistration
{
    public static IServiceCollection AddHumanRequests(this IServiceCollection services)
    {
        services.AddSingleton<HumanRequestWaiter>();
        services.AddHostedService<HumanRequestExpiryService>();
        return services;
    }
}
