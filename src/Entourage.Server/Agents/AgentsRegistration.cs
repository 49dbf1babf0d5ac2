using Entourage.Server.Agents.Adapters;

namespace Entourage.Server.Agents;

/// <summary>Agent runtime: adapters that launch agent CLIs (issue #4).</summary>
public static class AgentsRegistration
{
    public static IServiceCollection AddEntourageAgents(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton<AdapterCatalog>();
        services.AddSingleton<IAgentAdapter, ClaudeCodeAdapter>();
        services.AddSingleton<IAgentAdapter, CodexAdapter>();
        services.AddSingleton<IAgentAdapter, GeminiAdapter>();
        services.AddSingleton<IAgentAdapter, AiderAdapter>();
        services.AddSingleton<IAgentAdapter, CommandAdapter>();
        return services;
    }
}
