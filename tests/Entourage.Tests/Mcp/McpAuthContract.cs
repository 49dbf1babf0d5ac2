using System.Net;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Entourage.Tests.Mcp;

/// <summary>Identity on /mcp: the bearer token names the agent; nothing else is accepted.</summary>
public abstract class McpAuthContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Agent_token_lists_the_tools_and_its_own_team()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var client = await McpClients.ConnectAsync(_server, team.ManagerToken);
        var tools = await client.ListToolsAsync();
        tools.Select(t => t.Name).ShouldContain("list_team_agents");
        foreach (var tool in tools) tool.Description.ShouldNotBeNullOrWhiteSpace();

        var result = await client.CallToolAsync("list_team_agents");
        result.IsError.ShouldNotBe(true);
        var agents = JsonNode.Parse(((TextContentBlock)result.Content[0]).Text)!.AsArray();
        agents.Select(a => a!["name"]!.GetValue<string>()).ShouldBe(["manager", "eng-backend", "eng-frontend"], ignoreOrder: true);
        agents.ShouldAllBe(a => a!["team_id"]!.GetValue<Guid>() == team.Id);
        agents.ShouldAllBe(a => a!["token"] == null);
    }

    [Fact]
    public async Task Missing_or_wrong_token_is_refused_with_401()
    {
        await McpTestTeam.CreateAsync(_server, "platform");
        foreach (var auth in new string?[] { null, "Bearer ent_agent_notatoken", "Basic abc" })
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, "/mcp")
            {
                Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", System.Text.Encoding.UTF8, "application/json"),
            };
            req.Headers.Accept.ParseAdd("application/json");
            req.Headers.Accept.ParseAdd("text/event-stream");
            if (auth is not null) req.Headers.TryAddWithoutValidation("Authorization", auth);
            var r = await _server.Http.SendAsync(req);
            r.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            (await r.Content.ReadAsStringAsync()).ShouldContain("token");
        }
        await Should.ThrowAsync<HttpRequestException>(async () => await McpClients.ConnectAsync(_server, "ent_agent_wrong"));
    }

    [Fact]
    public async Task Each_agent_sees_only_its_own_team()
    {
        var a = await McpTestTeam.CreateAsync(_server, "team-a");
        var b = await McpTestTeam.CreateAsync(_server, "team-b");
        await using var client = await McpClients.ConnectAsync(_server, b.EngineerToken);
        var result = await client.CallToolAsync("list_team_agents");
        var agents = JsonNode.Parse(((TextContentBlock)result.Content[0]).Text)!.AsArray();
        agents.ShouldAllBe(x => x!["team_id"]!.GetValue<Guid>() == b.Id);
        agents.Select(x => x!["id"]!.GetValue<Guid>()).ShouldNotContain(a.ManagerId);
    }

    [Fact]
    public async Task A_rotated_or_revoked_token_stops_working_at_once()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using (var before = await McpClients.ConnectAsync(_server, team.EngineerToken))
            (await before.CallOkAsync("get_budget"))["advice"].ShouldNotBeNull();

        var rotated = await _server.PostJsonAsync($"/api/v1/agents/{team.EngineerId}/token/rotate", "{}");
        var fresh = rotated["token"]!.GetValue<string>();
        fresh.ShouldStartWith("ent_agent_");
        await Should.ThrowAsync<HttpRequestException>(async () => await McpClients.ConnectAsync(_server, team.EngineerToken));
        await using (var after = await McpClients.ConnectAsync(_server, fresh))
            (await after.CallOkAsync("list_team_agents")).AsArray().Count.ShouldBe(3);

        (await _server.Http.DeleteAsync($"/api/v1/agents/{team.EngineerId}/token")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await Should.ThrowAsync<HttpRequestException>(async () => await McpClients.ConnectAsync(_server, fresh));
    }

    [Fact]
    public async Task A_turn_token_works_only_while_its_turn_runs()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        var (token, hash, _) = Entourage.Server.Dispatch.TurnTokens.Mint();
        var turnId = Guid.CreateVersion7();
        await using (var scope = _server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var now = DateTime.UtcNow;
            db.Turns.Add(new Turn { Id = turnId, AgentId = team.EngineerId, TeamId = team.Id, Node = "test", StartedAt = now, HeartbeatAt = now, LeaseUntil = now.AddMinutes(5), TokenHash = hash });
            await db.SaveChangesAsync();
        }
        await using (var client = await McpClients.ConnectAsync(_server, token))
        {
            var events = await client.CallOkAsync("create_task", new { title = "from a turn" });
            events["created_by_agent_id"]!.GetValue<Guid>().ShouldBe(team.EngineerId);
        }
        await using (var scope = _server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var turn = await db.Turns.SingleAsync(t => t.Id == turnId);
            turn.State = TurnState.Succeeded;
            await db.SaveChangesAsync();
        }
        await Should.ThrowAsync<HttpRequestException>(async () => await McpClients.ConnectAsync(_server, token));
    }

    [Fact]
    public async Task An_org_api_key_acts_for_a_named_agent_of_its_org_only()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        var org = await _server.DefaultOrgIdAsync();
        var key = await _server.PostJsonAsync($"/api/v1/orgs/{org}/api-keys", """{"name": "ops"}""");
        var secret = key["key"]!.GetValue<string>();
        (await _server.GetJsonAsync($"/api/v1/orgs/{org}/api-keys")).AsArray().Single()!["key"].ShouldBeNull();

        await using (var asManager = await McpClients.ConnectAsync(_server, secret, actAs: team.ManagerId.ToString()))
        {
            var task = await asManager.CallOkAsync("create_task", new { title = "Made by an operator as the manager" });
            var events = await asManager.CallOkAsync("get_task_events", new { task_id = task["id"]!.GetValue<long>() });
            events[0]!["actor"]!["name"]!.GetValue<string>().ShouldBe("manager");
        }
        // Without naming an agent, or naming one of another org, the key is refused.
        await Should.ThrowAsync<HttpRequestException>(async () => await McpClients.ConnectAsync(_server, secret));
        var other = await _server.PostJsonAsync("/api/v1/orgs", """{"name": "Other", "slug": "other"}""");
        var foreignTeam = await _server.PostJsonAsync($"/api/v1/orgs/{other["id"]}/teams", """{"name": "X", "slug": "x"}""");
        await Should.ThrowAsync<HttpRequestException>(async () =>
            await McpClients.ConnectAsync(_server, secret, actAs: foreignTeam["manager"]!["id"]!.GetValue<string>()));

        (await _server.Http.DeleteAsync($"/api/v1/api-keys/{key["id"]}")).IsSuccessStatusCode.ShouldBeTrue();
        await Should.ThrowAsync<HttpRequestException>(async () => await McpClients.ConnectAsync(_server, secret, actAs: team.ManagerId.ToString()));
    }
}

public sealed class McpAuthContractSqlite() : McpAuthContract(Store.Sqlite);

public sealed class McpAuthContractPostgres() : McpAuthContract(Store.Postgres);
