using Entourage.Server.Agents;
using Entourage.Server.Dashboard;
using Entourage.Server.Dispatch;
using Entourage.Server.Features;
using Entourage.Server.Mcp;
using Entourage.Server.Storage;

namespace Entourage.Server.Hosting;

/// <summary>
/// Composition root, shared by Program.cs, `entourage serve` and the tests (which start it on a random port).
/// Each area registers itself; this file only orders them.
/// </summary>
public static class EntourageApp
{
    public const string DefaultUrl = "http://localhost:8000";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // --no-local-agents: this server only serves (API, MCP, merge queue); runner nodes run every agent turn.
        args = [.. args.Select(a => a == "--no-local-agents" ? "--Dispatch:Enabled=false" : a)];
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
            // The app is Entourage.Server whichever process hosts it (the CLI, the test runner): static web asset
            // manifests are named after it.
            ApplicationName = typeof(EntourageApp).Assembly.GetName().Name,
        });
        if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls(DefaultUrl);
        builder.Configuration.AddEnvironmentVariables("ENTOURAGE__");
        configure?.Invoke(builder);

        builder.Services.AddEntourageHosting(builder.Configuration);
        builder.Services.AddEntourageStorage(builder.Configuration);
        builder.Services.AddEntourageFeatures(builder.Configuration);
        builder.Services.AddEntourageAgents(builder.Configuration);
        builder.Services.AddEntourageDispatch(builder.Configuration);
        builder.Services.AddEntourageMcp(builder.Configuration);
        builder.Services.AddEntourageDashboard(builder.Configuration);

        var app = builder.Build();
        app.UseEntourageHosting();
        app.MapEntourageApi();
        app.MapEntourageMcp();
        app.MapEntourageDashboard();
        return app;
    }
}
