namespace Entourage.Server.Mcp;

/// <summary>MCP server at /mcp (issue #5).</summary>
public static class McpRegistration
{
    public static IServiceCollection AddEntourageMcp(this IServiceCollection services, IConfiguration config) => services;

    public static WebApplication MapEntourageMcp(this WebApplication app) => app;
}
