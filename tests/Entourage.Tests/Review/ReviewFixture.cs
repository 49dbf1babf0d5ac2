using Entourage.Server.Git;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Merging;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Tests.Review;

/// <summary>
/// A team on a real git repository in a temp folder, with an engineer whose work the test performs itself (commits
/// in the task's worktree), so review and merge run against real git exactly as they do behind real agents.
/// </summary>
public sealed class ReviewFixture : IAsyncDisposable
{
    public required TestServer Server { get; init; }
    public required string Repo { get; init; }
    public required Guid TeamId { get; init; }
    public required Guid EngineerId { get; init; }
    public required Guid ManagerId { get; init; }
    public required string TurnsDirectory { get; init; }

    public static async Task<ReviewFixture> StartAsync(Store store, string? dataDirectory = null, TestServer? server = null)
    {
        server ??= await TestServer.StartAsync(store, Dispatch.DispatchHarness.FastSettings(new Dictionary<string, string?> { ["Merging:PollSeconds"] = "1" }), dataDirectory);
        var repo = Directory.CreateTempSubdirectory("entourage-repo-").FullName;
        await Git(repo, "init", "-q", "-b", "main");
        await Git(repo, "config", "user.email", "test@example.com");
        await Git(repo, "config", "user.name", "Test");
        await File.WriteAllTextAsync(Path.Combine(repo, "app.txt"), "one\ntwo\nthree\nfour\nfive\n");
        await Git(repo, "add", "-A");
        await Git(repo, "commit", "-q", "-m", "initial");
        var org = await server.DefaultOrgIdAsync();
        var slug = "t" + Guid.NewGuid().ToString("N")[..8];
        var team = await server.PostJsonAsync($"/api/v1/orgs/{org}/teams", $$"""{"name": "{{slug}}", "slug": "{{slug}}", "repo_path": "{{repo}}"}""");
        var teamId = team["id"]!.GetValue<Guid>();
        // The engineer and the manager are FakeAgents that record each turn (what it was given) and do nothing
        // else: the dispatcher runs them for real, and the test plays the engineer's hands in the worktree.
        var turns = Path.Combine(server.DataDirectory, "turns");
        var script = new System.Text.Json.Nodes.JsonObject { ["record_dir"] = turns, ["steps"] = new System.Text.Json.Nodes.JsonArray() };
        var engineer = await Dispatch.DispatchHarness.AddFakeAgentAsync(server, teamId, "eng-1", script);
        var managerId = team["manager"]!["id"]!.GetValue<Guid>();
        await Dispatch.DispatchHarness.UseFakeAgentAsync(server, managerId, script);
        return new ReviewFixture
        {
            Server = server, Repo = repo, TeamId = teamId, TurnsDirectory = turns,
            EngineerId = engineer, ManagerId = managerId,
        };
    }

    public static async Task<string> Git(string dir, params string[] args) => await GitCli.CheckedAsync(dir, CancellationToken.None, args);

    public async Task<T> InDbAsync<T>(Func<AppDbContext, Task<T>> f)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return await f(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    public Task SetTeamAsync(Action<Server.Storage.Entities.Team> change) => InDbAsync(async db =>
    {
        var t = await db.Teams.FirstAsync(x => x.Id == TeamId);
        change(t);
        return await db.SaveChangesAsync();
    });

    /// <summary>Creates a task for the engineer, claims it, and makes its worktree the way the dispatcher does.</summary>
    public async Task<(long Id, string Worktree)> StartTaskAsync(string title, params long[] dependsOn)
    {
        var deps = dependsOn.Length == 0 ? "" : $", \"depends_on\": [{string.Join(",", dependsOn)}]";
        var task = await Server.PostJsonAsync($"/api/v1/teams/{TeamId}/tasks", $$"""{"title": "{{title}}", "assignee_id": "{{EngineerId}}"{{deps}}}""");
        var id = task["id"]!.GetValue<long>();
        if (dependsOn.Length > 0) return (id, "");
        return (id, await ClaimAsync(id, title));
    }

    /// <summary>The dispatcher claims the ready task: its worktree is made and the task moves to in_progress.</summary>
    public async Task<string> ClaimAsync(long id, string title)
    {
        await Dispatch.DispatchHarness.WaitUntilAsync(Server,
            async db => await db.Tasks.AnyAsync(t => t.Id == id && t.Status == TaskState.InProgress && t.WorktreePath != null),
            $"task {id} claimed by its engineer ({title})");
        return await InDbAsync(db => db.Tasks.Where(t => t.Id == id).Select(t => t.WorktreePath!).FirstAsync());
    }

    /// <summary>Waits until one of the agent's turns was given the message (its prompt carried [message:id]).</summary>
    public Task WaitForTurnWithMessageAsync(Guid agent, long messageId) =>
        Dispatch.DispatchHarness.WaitUntilAsync(Server, _ => Task.FromResult(
            Directory.Exists(TurnsDirectory) && Directory.EnumerateFiles(TurnsDirectory, "*.start.json").Any(f =>
            {
                var record = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(f))!;
                return record["agent_id"]!.GetValue<string>() == agent.ToString() &&
                    record["tags"]!.AsArray().Any(t => t!.GetValue<string>() == $"[message:{messageId}]");
            })), $"a turn of agent {agent} given message {messageId}");

    public Task<long> LastMessageIdToAsync(Guid agent) =>
        InDbAsync(db => db.Messages.Where(m => m.RecipientId == agent).MaxAsync(m => m.Id));

    public static async Task CommitAsync(string worktree, string file, string content, string message)
    {
        await File.WriteAllTextAsync(Path.Combine(worktree, file), content);
        await Git(worktree, "add", "-A");
        await Git(worktree, "-c", "user.email=eng@example.com", "-c", "user.name=eng", "commit", "-q", "-m", message);
    }

    public async Task<JsonNode> TaskAsync(long id) => await Server.GetJsonAsync($"/api/v1/tasks/{id}");

    /// <summary>Waits (on the change feed, not a timer) until the task reaches one of <paramref name="states"/>.</summary>
    public async Task<string> WaitForStatusAsync(long id, params string[] states)
    {
        var feed = Server.Services.GetRequiredService<ChangeFeed>();
        using var sub = feed.Subscribe();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        while (true)
        {
            var status = (await TaskAsync(id))["status"]!.GetValue<string>();
            if (states.Contains(status)) return status;
            while (true)
            {
                var e = await sub.Reader.ReadAsync(cts.Token);
                if (e.Kind is "task" or "merge_queue_item") break;
            }
        }
    }

    public Task<List<string>> MessagesToAsync(Guid agent) =>
        InDbAsync(db => db.Messages.Where(m => m.RecipientId == agent).OrderBy(m => m.Id).Select(m => m.Body).ToListAsync());

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try { Directory.Delete(Repo, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
