using Entourage.Server.Mcp.Tools;

namespace Entourage.Server.Mcp;

/// <summary>
/// MCP server at /mcp (DESIGN §6): Streamable HTTP, stateless (every request stands alone, so any node can serve
/// it and a long wait holds no session), the bearer check in front of it, tools as [McpServerTool] methods.
/// </summary>
public static class McpRegistration
{
    public const string Path = "/mcp";

    public static IServiceCollection AddEntourageMcp(this IServiceCollection services, IConfiguration config)
    {
        services.AddScoped<McpCaller>();
        services.AddMcpServer(o => o.ServerInfo = new() { Name = "entourage", Version = typeof(McpRegistration).Assembly.GetName().Version?.ToString() ?? "1.0" })
            .WithHttpTransport(o => o.Stateless = true)
            .WithRequestFilters(f => f.AddCallToolFilter(ToolErrors.Filter))
            .WithTools<TeamTools>(ToolJson.Options)
            .WithTools<TaskTools>(ToolJson.Options)
            .WithTools<WaitTools>(ToolJson.Options)
            .WithTools<MessageTools>(ToolJson.Options)
            .WithTools<HumanTools>(ToolJson.Options)
            .WithTools<ReviewTools>(ToolJson.Options)
            .WithTools<ProgressTools>(ToolJson.Options)
            .WithTools<BudgetTools>(ToolJson.Options);
        return services;
    }

    public static WebApplication MapEntourageMcp(this WebApplication app)
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments(Path), b => b.UseMiddleware<McpBearerAuth>());
        app.MapMcp(Path);
        return app;
    }
}
