using Entourage.Server.Security;
using Microsoft.AspNetCore.Http.Json;

namespace Entourage.Server.Hosting;

public static class HostingRegistration
{
    public static IServiceCollection AddEntourageHosting(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton<TimeProvider>(MicrosecondClock.Instance);
        services.Configure<JsonOptions>(o => JsonDefaults.Apply(o.SerializerOptions));
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = 1024 * 1024);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Instance ??= c.HttpContext.Request.Path;
            c.ProblemDetails.Type ??= $"https://httpstatuses.io/{c.ProblemDetails.Status}";
            // Answers the framework gives on its own (405, 413, 415 from status code pages) carry no detail.
            if (c.ProblemDetails.Detail is null && c.ProblemDetails.Status is { } status)
                c.ProblemDetails.Detail = RequestProblems.DetailFor(status, c.HttpContext);
        });
        services.AddExceptionHandler<ProblemDetailsMapping>();
        services.AddOpenApi();
        services.AddHealthChecks();
        services.AddEntourageSecurity(config);
        return services;
    }

    public static WebApplication UseEntourageHosting(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseEntourageSecurity();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapHealthChecks("/health");
        return app;
    }
}
