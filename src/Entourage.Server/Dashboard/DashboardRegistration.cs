using Entourage.Server.Dashboard.Components;
using Entourage.Server.Dashboard.Data;
using Entourage.Server.Features.Stream;
using Microsoft.AspNetCore.Hosting.StaticWebAssets;
using MudBlazor.Services;

namespace Entourage.Server.Dashboard;

/// <summary>Blazor dashboard at / (issue #7): interactive server rendering, live from the <c>ChangeFeed</c>.</summary>
public static partial class DashboardRegistration
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
        // Without its asset manifest (a host that is not a build of Entourage.Server) the dashboard cannot load its
        // scripts, but the REST API and MCP must still start: say what is missing instead of failing the server.
        var manifest = Path.Combine(AppContext.BaseDirectory, $"{app.Environment.ApplicationName}.staticwebassets.endpoints.json");
        if (File.Exists(manifest)) app.MapStaticAssets(manifest);
        else LogAssetsMissing(app.Logger, manifest);
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        EventStreamEndpoint.Map(app);
        return app;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard static assets are unavailable: {Manifest} is missing. Build or publish Entourage.Server to get it.")]
    private static partial void LogAssetsMissing(ILogger logger, string manifest);
}
