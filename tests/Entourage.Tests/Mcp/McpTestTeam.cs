using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;

namespace Entourage.Tests.Mcp;

/// <summary>A team made over the REST API (as the spec does), with the tokens its agents were given.</summary>
public sealed record McpTestTeam(Guid Id, Guid ManagerId, string ManagerToken, Guid EngineerId, string EngineerToken, Guid OtherEngineerId)
{
    public static async Task<McpTestTeam> CreateAsync(TestServer server, string slug, string? repoPath = null)
    {
        var org = await server.DefaultOrgIdAsync();
        var repo = repoPath is null ? "" : $", \"repo_path\": {JsonValue.Create(repoPath).ToJsonString()}";
        var team = await server.PostJsonAsync($"/api/v1/orgs/{org}/teams", $$"""{"name": "Team {{slug}}", "slug": "{{slug}}"{{repo}}}""");
        var teamId = team["id"]!.GetValue<Guid>();
        var (backendId, backendToken) = await AddAgentAsync(server, teamId, "eng-backend", "Backend specialist — Python, APIs, databases");
        var (frontendId, _) = await AddAgentAsync(server, teamId, "eng-frontend", "Frontend specialist — React, TypeScript, UI");
        return new McpTestTeam(teamId, team["manager"]!["id"]!.GetValue<Guid>(), team["manager"]!["token"]!.GetValue<string>(),
            backendId, backendToken, frontendId);
    }

    /// <summary>Adds an engineer through the same factory POST /teams/{id}/agents uses, keeping its one-time token.</summary>
    public static async Task<(Guid Id, string Token)> AddAgentAsync(TestServer server, Guid teamId, string name, string description,
        string adapter = "claude-code", JsonObject? config = null)
    {
        using var scope = server.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        config ??= new JsonObject();
        config["description"] = description;
        var (agent, token) = await AgentFactory.AddAsync(db, teamId,
            new CreateAgentRequest(name, AgentRole.Engineer, "claude-sonnet-4-20250514", adapter, config), DateTime.UtcNow, default);
        await db.SaveChangesAsync();
        return (agent.Id, token);
    }
}

public static class McpClients
{
    /// <summary>The official C# MCP client over Streamable HTTP with a bearer token (and optional act-as header).</summary>
    public static async Task<McpClient> ConnectAsync(TestServer server, string token, string? actAs = null, CancellationToken ct = default)
    {
        var headers = new Dictionary<string, string> { ["Authorization"] = "Bearer " + token };
        if (actAs is not null) headers[Entourage.Client.Mcp.StdioBridge.ActAsAgentHeader] = actAs;
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(server.BaseUrl, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            EnableStandaloneGetStream = false,
            AdditionalHeaders = headers,
        }, new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, ownsHttpClient: true);
        return await McpClient.CreateAsync(transport, cancellationToken: ct);
    }
}
