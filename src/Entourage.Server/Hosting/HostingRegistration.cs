using System.Net;
using Microsoft.AspNetCore.Http.Json;

namespace Entourage.Server.Hosting;

public static class HostingRegistration
{
    public static IServiceCollection AddEntourageHosting(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(TimeProvider.System);
        services.Configure<JsonOptions>(o => JsonDefaults.Apply(o.SerializerOptions));
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = 1024 * 1024);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Instance ??= c.HttpContext.Request.Path;
            c.ProblemDetails.Type ??= $"https://httpstatuses.io/{c.ProblemDetails.Status}";
        });
        services.AddExceptionHandler<ProblemDetailsMapping>();
        services.AddOpenApi();
        services.AddHealthChecks();
        return services;
    }

    public static WebApplication UseEntourageHosting(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        if (ListensOnLoopbackOnly(app)) app.UseMiddleware<LoopbackGuard>();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapHealthChecks("/health");
        return app;
    }

    /// <summary>True unless a configured URL binds a non-loopback address (then API keys apply, issue #9).</summary>
    public static bool ListensOnLoopbackOnly(WebApplication app)
    {
        var urls = (app.Configuration["urls"] ?? EntourageApp.DefaultUrl).Split(';', StringSplitOptions.RemoveEmptyEntries);
        return urls.All(u =>
        {
            var host = u.Replace("://*", "://wildcard", StringComparison.Ordinal).Replace("://+", "://wildcard", StringComparison.Ordinal);
            if (!Uri.TryCreate(host, UriKind.Absolute, out var uri)) return false;
            return uri.Host == "localhost" || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        });
    }
}
