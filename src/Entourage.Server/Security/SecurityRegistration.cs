using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Entourage.Server.Security;

/// <summary>Credentials and scopes for every request (DESIGN §7, issue #9).</summary>
public static class SecurityRegistration
{
    public static IServiceCollection AddEntourageSecurity(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<SecurityOptions>(config.GetSection("Security"));
        services.AddSingleton<SecurityMode>();
        services.AddSingleton<AdminKey>();
        services.AddScoped<RequestCaller>();
        return services;
    }

    /// <summary>Must run before every endpoint (the REST API, /mcp, the dashboard and its hub, OpenAPI).</summary>
    public static WebApplication UseEntourageSecurity(this WebApplication app)
    {
        var mode = app.Services.GetRequiredService<SecurityMode>();
        var admin = app.Services.GetRequiredService<AdminKey>();
        admin.Initialize(generate: mode.RequireCredentials);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
            if (addresses is null) return;
            mode.ObserveBoundAddresses(addresses);
            if (mode.RequireCredentials) admin.Initialize(generate: true);
        });
        app.UseMiddleware<RequestGuard>();
        return app;
    }
}
