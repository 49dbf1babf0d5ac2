namespace Entourage.Server.Agents;

/// <summary>Agent runtime: adapters that launch agent CLIs (issue #4).</summary>
public static class AgentsRegistration
{
    public static IServiceCollection AddEntourageAgents(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton<AdapterCatalog>();
        return services;
    }
}
