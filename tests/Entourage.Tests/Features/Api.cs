using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Tests.Features;

/// <summary>Raw-JSON HTTP calls as a curl would make them, plus direct reads of the store for assertions.</summary>
public static class Api
{
    public sealed record Reply(HttpStatusCode Status, JsonNode? Body, string Text, string? ContentType)
    {
        public JsonNode Json => Body ?? throw new InvalidOperationException($"No JSON body ({(int)Status}): {Text}");

        public Reply ShouldBe(HttpStatusCode expected)
        {
            Status.ShouldBe(expected, Text);
            return this;
        }
    }

    public static Task<Reply> PostAsync(this TestServer s, string path, string json) => SendAsync(s, HttpMethod.Post, path, json);

    public static Task<Reply> PatchAsync(this TestServer s, string path, string json) => SendAsync(s, HttpMethod.Patch, path, json);

    public static Task<Reply> GetAsync(this TestServer s, string path) => SendAsync(s, HttpMethod.Get, path, null);

    public static Task<Reply> DeleteAsync(this TestServer s, string path) => SendAsync(s, HttpMethod.Delete, path, null);

    public static async Task<Reply> SendAsync(this TestServer s, HttpMethod method, string path, string? json, CancellationToken ct = default)
    {
        using var req = new HttpRequestMessage(method, path);
        if (json is not null) req.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var r = await s.Http.SendAsync(req, ct);
        var text = await r.Content.ReadAsStringAsync(ct);
        JsonNode? body = null;
        try { body = text.Length == 0 ? null : JsonNode.Parse(text); } catch (System.Text.Json.JsonException) { }
        return new Reply(r.StatusCode, body, text, r.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>Creates a team ("Platform") with eng-backend and eng-frontend; returns their ids.</summary>
    public static async Task<Team3> TeamAsync(this TestServer s, string slug = "platform")
    {
        var org = await s.DefaultOrgIdAsync();
        var team = (await s.PostAsync($"/api/v1/orgs/{org}/teams", $$"""{"name": "Platform {{slug}}", "slug": "{{slug}}"}""")).ShouldBe(HttpStatusCode.Created).Json;
        var teamId = team["id"]!.GetValue<Guid>();
        var be = (await s.PostAsync($"/api/v1/teams/{teamId}/agents", """{"name": "eng-backend", "role": "engineer"}""")).ShouldBe(HttpStatusCode.Created).Json;
        var fe = (await s.PostAsync($"/api/v1/teams/{teamId}/agents", """{"name": "eng-frontend", "role": "engineer"}""")).ShouldBe(HttpStatusCode.Created).Json;
        return new Team3(teamId, team["manager"]!["id"]!.GetValue<Guid>(), be["id"]!.GetValue<Guid>(), fe["id"]!.GetValue<Guid>());
    }

    public sealed record Team3(Guid Id, Guid Manager, Guid Backend, Guid Frontend);

    public static async Task<long> TaskAsync(this TestServer s, Guid team, string json) =>
        (await s.PostAsync($"/api/v1/teams/{team}/tasks", json)).ShouldBe(HttpStatusCode.Created).Json["id"]!.GetValue<long>();

    public static async Task<Reply> StatusAsync(this TestServer s, long task, string status, string? reason = null) =>
        await s.PostAsync($"/api/v1/tasks/{task}/status", reason is null ? $$"""{"status": "{{status}}"}""" : $$"""{"status": "{{status}}", "reason": "{{reason}}"}""");

    /// <summary>todo → in_progress → done.</summary>
    public static async Task FinishAsync(this TestServer s, long task)
    {
        (await s.StatusAsync(task, "in_progress")).ShouldBe(HttpStatusCode.OK);
        (await s.StatusAsync(task, "done")).ShouldBe(HttpStatusCode.OK);
    }

    public static async Task<T> WithDbAsync<T>(this TestServer s, Func<AppDbContext, Task<T>> read)
    {
        await using var scope = s.Services.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    /// <summary>
    /// An open wait of <paramref name="agent"/> on <paramref name="tasks"/>, as wait_for_task_completion leaves it when
    /// the agent's turn ends while it waits (written directly: no MCP session needed).
    /// </summary>
    public static Task<long> OpenWaitAsync(this TestServer s, Guid team, Guid agent, params long[] tasks) => s.WithDbAsync(async db =>
    {
        var w = new Entourage.Server.Storage.Entities.TaskWait { AgentId = agent, TeamId = team, TaskIdsJson = "[" + string.Join(",", tasks) + "]", CreatedAt = DateTime.UtcNow };
        db.TaskWaits.Add(w);
        await db.SaveChangesAsync();
        return w.Id;
    });

    public static Task<List<(Guid Agent, DispatchReason Reason, long? Task, string? Ref)>> DispatchAsync(this TestServer s) =>
        s.WithDbAsync(async db => (await db.DispatchRequests.AsNoTracking().OrderBy(r => r.Id).ToListAsync())
            .Select(r => (r.AgentId, r.Reason, r.TaskId, r.Ref)).ToList());

    /// <summary>Row counts of every table a request could touch: equal before and after means nothing changed.</summary>
    public static Task<string> FingerprintAsync(this TestServer s) => s.WithDbAsync(async db =>
        string.Join(",", await db.Teams.CountAsync(), await db.Agents.CountAsync(), await db.Tasks.CountAsync(),
            await db.TaskDependencies.CountAsync(), await db.TaskEvents.CountAsync(), await db.Messages.CountAsync(),
            await db.DispatchRequests.CountAsync(), await db.Tasks.SumAsync(t => t.Version),
            await db.Messages.CountAsync(m => m.ReadAt != null)) + "|" +
        string.Join(",", (await db.Teams.AsNoTracking().OrderBy(t => t.Id).ToListAsync()).Select(t => $"{t.DailyCostLimitUsd}:{t.MaxConcurrentAgents}:{t.UpdatedAt.Ticks}")) + "|" +
        string.Join(",", (await db.Agents.AsNoTracking().OrderBy(a => a.Id).ToListAsync()).Select(a => $"{a.Name}:{a.Role}:{a.Model}:{a.ConfigJson}")));

    public static List<long> Ids(this JsonNode? node) => node!.AsArray().Select(n => n!.GetValue<long>()).ToList();

    public static string Str(this JsonNode? node) => node!.GetValue<string>();
}
