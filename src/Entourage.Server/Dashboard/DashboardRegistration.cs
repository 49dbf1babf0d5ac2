using Entourage.Server.Dashboard.Components;
using Entourage.Server.Dashboard.Data;
using Entourage.Server.Features.Stream;
using Microsoft.AspNetCore.Hosting.StaticWebAssets;
using MudBlazor.Services;

namespace Entourage.Server.Dashboard;

/// <summary>Blazor dashboard at / (issue #7): interactive server rendering, live from the <c>ChangeFeed</c>.</summary>
public static class DashboardRegistration
{
    public static IServiceCollection AddEntourageDashboard(this IServiceCollection services, IConfiguration config)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddSingleton<DashboardQueries>();
        services.AddSingleton<DashboardActions>();
        return services;
    }

    public static WebApplication MapEntourageDashboard(this WebApplication app)
    {
        // EntourageApp roots the content at the build output, so outside Development the SDK's static web asset
        // manifest (which points at the NuGet cache and the project's wwwroot) is not loaded by default. Load it
        // whenever it exists, so `dotnet run` and the test host serve _content/* too; a published app has no such
        // manifest and serves the copied files from wwwroot.
        if (!app.Environment.IsDevelopment() && File.Exists(Path.Combine(AppContext.BaseDirectory, $"{app.Environment.ApplicationName}.staticwebassets.runtime.json")))
            StaticWebAssetsLoader.UseStaticWebAssets(app.Environment, app.Configuration);

        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        EventStreamEndpoint.Map(app);
        return app;
    }
}
