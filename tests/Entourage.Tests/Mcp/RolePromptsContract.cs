using System.Net;
using Entourage.Server.Features.Prompts;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Tests.Mcp;

/// <summary>Role prompts: the defaults say what the spec asks, a team can read and override them, and they render.</summary>
public abstract class RolePromptsContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Defaults_cover_the_spec_and_a_team_can_override_and_reset_them()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        var all = await _server.GetJsonAsync($"/api/v1/teams/{team.Id}/prompts");
        all.AsArray().Select(p => p!["role"]!.GetValue<string>()).ShouldBe(["manager", "engineer", "reviewer"]);
        var manager = all[0]!["template"]!.GetValue<string>();
        foreach (var must in new[] { "create_tasks_batch", "list_team_agents", "wait_for_task_completion", "send_message", "never write code" })
            manager.ShouldContain(must, Case.Insensitive);
        var engineer = all[1]!["template"]!.GetValue<string>();
        foreach (var must in new[] { "one task", "worktree", "tests", "docs", "ask_human", "request_review", "get_budget" })
            engineer.ShouldContain(must, Case.Insensitive);

        var put = await _server.Http.PutAsync($"/api/v1/teams/{team.Id}/prompts/engineer",
            new StringContent("""{"template": "You are {{agent_name}} on {{team_name}}. {{task_section}}"}""", System.Text.Encoding.UTF8, "application/json"));
        put.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await _server.GetJsonAsync($"/api/v1/teams/{team.Id}/prompts/engineer"))["is_default"]!.GetValue<bool>().ShouldBeFalse();

        await using (var scope = _server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var t = await db.Teams.SingleAsync(x => x.Id == team.Id);
            var a = await db.Agents.SingleAsync(x => x.Id == team.EngineerId);
            var task = new Entourage.Server.Storage.Entities.TaskItem { Id = 7, Title = "Create users table", Description = "With email unique." };
            var text = RolePrompts.Render(t, a, task);
            text.ShouldStartWith("You are eng-backend on Team platform. Your task: #7 Create users table");
            text.ShouldContain("With email unique.");
            RolePrompts.Render(t, await db.Agents.SingleAsync(x => x.Id == team.ManagerId), null).ShouldContain("you never write code");
        }

        var bad = await _server.Http.PutAsync($"/api/v1/teams/{team.Id}/prompts/manager",
            new StringContent("""{"template": "Hi {{agnet_name}}"}""", System.Text.Encoding.UTF8, "application/json"));
        bad.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await bad.Content.ReadAsStringAsync()).ShouldContain("agnet_name");
        (await _server.Http.PutAsync($"/api/v1/teams/{team.Id}/prompts/boss",
            new StringContent("""{"template": "x"}""", System.Text.Encoding.UTF8, "application/json"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        (await _server.Http.DeleteAsync($"/api/v1/teams/{team.Id}/prompts/engineer")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await _server.GetJsonAsync($"/api/v1/teams/{team.Id}/prompts/engineer"))["is_default"]!.GetValue<bool>().ShouldBeTrue();
    }
}

public sealed class RolePromptsContractSqlite() : RolePromptsContract(Store.Sqlite);

public sealed class RolePromptsContractPostgres() : RolePromptsContract(Store.Postgres);
