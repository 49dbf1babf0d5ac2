using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Security;

/// <summary>
/// A full run on a server bound to every interface, with every log entry (Debug and up, EF's SQL with parameter
/// values) captured to a file: orgs, keys, teams, agents, tasks, messages, a human request, a rotated token, refused
/// credentials, an MCP call, and a FakeAgent turn launched by the dispatcher that calls the REST API with its turn
/// token. Then the logs, every task's timeline, turns with their logs, messages and human requests are read back
/// and searched for every key and token minted — none may appear. The agent's environment is checked too: the
/// server's own variables (a fake secret) never reach it.
/// </summary>
public abstract class SecretLeakContract(Store store)
{
    private const string FakeSecretName = "ENTOURAGE_SECURITY_TEST_FAKE_SECRET";

    [Fact]
    public async Task No_key_or_token_appears_in_logs_events_or_turn_logs_and_the_agent_gets_an_allow_listed_environment()
    {
        var dir = Directory.CreateTempSubdirectory("entourage-leak-").FullName;
        var logPath = Path.Combine(dir, "server.log");
        var fakeSecret = "fake-secret-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(FakeSecretName, fakeSecret);
        try
        {
            var logs = new FileLoggerProvider(logPath);
            await using var world = await SecurityWorld.CreateAsync(store,
                new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Debug", ["Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command"] = "Debug" },
                b =>
                {
                    b.Logging.AddProvider(logs);
                    // Parameter values in EF's SQL log: the strongest setting an operator could turn on.
                    b.Services.ConfigureDbContext<SqliteDbContext>(o => o.EnableSensitiveDataLogging());
                    b.Services.ConfigureDbContext<PostgresDbContext>(o => o.EnableSensitiveDataLogging());
                });
            var s = world.Server;

            // A rotated token, refused credentials on REST and MCP, an MCP call with a real token.
            var rotated = await s.PostJsonAsync($"/api/v1/agents/{world.EngineerA2}/token/rotate", "{}");
            world.Secrets.Add(rotated["token"]!.GetValue<string>());
            var bogus = "ent_key_" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
            world.Secrets.Add(bogus);
            using (var wrong = world.As(bogus)) (await wrong.GetAsync("/api/v1/orgs")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            (await McpPost(world, bogus)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            (await McpPost(world, world.EngineerA1Token)).StatusCode.ShouldBe(HttpStatusCode.OK);

            // A FakeAgent turn through the dispatcher. A shell in front of it records what the process was given.
            var outDir = Path.Combine(dir, "agent");
            Directory.CreateDirectory(outDir);
            var scriptPath = Path.Combine(dir, "script.json");
            await File.WriteAllTextAsync(scriptPath, new JsonObject
            {
                ["steps"] = new JsonArray(
                    Step("print", new { text = "working on {task_id}" }),
                    Step("usage", new { cost = 0.01, input = 10, output = 5 }),
                    Step("http", new { method = "POST", path = "/api/v1/tasks/{task_id}/status", body = new { status = "done" } })),
            }.ToJsonString());
            var agent = await s.PostJsonAsync($"/api/v1/teams/{world.TeamA1}/agents", new JsonObject
            {
                ["name"] = "eng-run",
                ["adapter"] = "command",
                ["model"] = "fake",
                ["config"] = new JsonObject
                {
                    ["command"] = "/bin/sh",
                    ["args"] = new JsonArray("-c", "printf %s \"$ENTOURAGE_AGENT_TOKEN\" > \"$0/turn-token\"; env > \"$0/env.txt\"; exec \"$1\" \"$2\" --script \"$3\"",
                        outDir, DotnetHost, FakeAgentDll, scriptPath),
                },
            }.ToJsonString());
            world.Secrets.Add(agent["token"]!.GetValue<string>());
            await PatchSettings(s, world.TeamA1);
            var task = await AddTaskAsync(s, world.TeamA1, agent["id"]!.GetValue<Guid>(), "Leak check task");
            await WaitUntilAsync([s], db => db.Tasks.AnyAsync(t => t.Id == task && t.Status == TaskState.Done), "the fake agent's task to be done", TimeSpan.FromSeconds(120));
            await WaitUntilAsync([s], db => db.Turns.AnyAsync(t => t.TaskId == task && t.State != TurnState.Running), "its turn to end", TimeSpan.FromSeconds(60));

            var turnToken = await File.ReadAllTextAsync(Path.Combine(outDir, "turn-token"));
            turnToken.ShouldStartWith("ent_turn_");
            world.Secrets.Add(turnToken);

            // The agent's environment: the allow-list and its identity, never the server's own variables.
            var env = await File.ReadAllTextAsync(Path.Combine(outDir, "env.txt"));
            env.ShouldContain("ENTOURAGE_AGENT_ID=" + agent["id"]);
            env.ShouldContain("PATH=");
            env.ShouldNotContain(FakeSecretName);
            env.ShouldNotContain(fakeSecret);
            env.ShouldNotContain(world.AdminKey);

            // Read everything back, as an operator would.
            var readBack = new StringBuilder();
            foreach (var team in new[] { world.TeamA1, world.TeamA2, world.TeamB1 })
            {
                readBack.AppendLine(await Text(s, $"/api/v1/teams/{team}"));
                readBack.AppendLine(await Text(s, $"/api/v1/teams/{team}/messages"));
                readBack.AppendLine(await Text(s, $"/api/v1/teams/{team}/agents"));
                readBack.AppendLine(await Text(s, $"/api/v1/teams/{team}/human-requests"));
                foreach (var t in JsonNode.Parse(await Text(s, $"/api/v1/teams/{team}/tasks"))!.AsArray())
                    readBack.AppendLine(await Text(s, $"/api/v1/tasks/{t!["id"]}/events"));
                foreach (var a in JsonNode.Parse(await Text(s, $"/api/v1/teams/{team}/agents"))!.AsArray())
                    foreach (var turn in JsonNode.Parse(await Text(s, $"/api/v1/agents/{a!["id"]}/turns"))!.AsArray())
                        readBack.AppendLine(await Text(s, $"/api/v1/turns/{turn!["id"]}"));
            }
            readBack.AppendLine(await Text(s, $"/api/v1/orgs/{world.OrgA}/api-keys"));
            readBack.ToString().ShouldContain("working on " + task); // the turn log was read back
            await using (var db = Db(s))
            {
                foreach (var e in await db.TaskEvents.AsNoTracking().ToListAsync()) readBack.AppendLine(System.Text.Json.JsonSerializer.Serialize(e));
                foreach (var t in await db.Turns.AsNoTracking().ToListAsync()) readBack.AppendLine(t.Log);
            }

            string logText;
            await using (var file = new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            using (var reader = new StreamReader(file))
                logText = await reader.ReadToEndAsync();
            logText.ShouldContain("Microsoft.EntityFrameworkCore.Database.Command"); // SQL was logged, with parameters
            logText.ShouldContain("ent_key_"); // ...including the refused key's short prefix, so the grep below is meaningful

            world.Secrets.Count.ShouldBeGreaterThanOrEqualTo(12);
            foreach (var secret in world.Secrets.Distinct())
            {
                logText.ShouldNotContain(secret, customMessage: $"a secret starting {secret[..12]} is in the server log");
                readBack.ToString().ShouldNotContain(secret, customMessage: $"a secret starting {secret[..12]} was read back from the API or the timeline");
            }
            TestContext.Current.TestOutputHelper?.WriteLine($"{world.Secrets.Distinct().Count()} secrets, log {logText.Length} chars, read back {readBack.Length} chars: none found");
        }
        finally
        {
            Environment.SetEnvironmentVariable(FakeSecretName, null);
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task PatchSettings(TestServer s, Guid team)
    {
        var r = await s.Http.PatchAsync($"/api/v1/settings/teams/{team}", new StringContent("""{"require_review": false}""", Encoding.UTF8, "application/json"));
        r.EnsureSuccessStatusCode();
    }

    private static async Task<string> Text(TestServer s, string path)
    {
        var r = await s.Http.GetAsync(path);
        var body = await r.Content.ReadAsStringAsync();
        r.IsSuccessStatusCode.ShouldBeTrue($"GET {path}: {(int)r.StatusCode} {body}");
        return body;
    }

    private static async Task<HttpResponseMessage> McpPost(SecurityWorld world, string token)
    {
        using var http = world.As(token);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        var r = await http.SendAsync(request);
        await r.Content.LoadIntoBufferAsync();
        return r;
    }
}

public sealed class SecretLeakSqlite() : SecretLeakContract(Store.Sqlite);

public sealed class SecretLeakPostgres() : SecretLeakContract(Store.Postgres);
