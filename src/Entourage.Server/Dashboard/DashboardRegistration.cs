namespace Entourage.Server.Dashboard;

/// <summary>Blazor dashboard at / (issue #7).</summary>
public static class DashboardRegistration
{
    public static IServiceCollection AddEntourageDashboard(this IServiceCollection services, IConfiguration config) => services;

    public static WebApplication MapEntourageDashboard(this WebApplication app) => app;
}
