using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Security;
using Entourage.Server.Storage.Entities;
using Entourage.Tests.Dispatch;
using Entourage.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace Entourage.Tests.Security;

/// <summary>
/// A server bound to every interface (so every request needs credentials) holding two orgs: A (the default org,
/// teams A1 and A2) and B (team B1). A1 has one resource of every kind a route can name — the victim of the
/// matrix tests — and every secret minted along the way is remembered for the leak tests.
/// </summary>
public sealed class SecurityWorld : IAsyncDisposable
{
    public required TestServer Server { get; init; }
    public required string AdminKey { get; init; }

    /// <summary>The server's port on 127.0.0.1 with no credentials.</summary>
    public required HttpClient Anonymous { get; init; }

    public Guid OrgA { get; private set; }
    public Guid OrgB { get; private set; }
    public string KeyA { get; private set; } = "";
    public string KeyB { get; private set; } = "";
    public Guid KeyAId { get; private set; }
    public Guid TeamA1 { get; private set; }
    public Guid TeamA2 { get; private set; }
    public Guid TeamB1 { get; private set; }
    public Guid ManagerA1 { get; private set; }
    public Guid EngineerA1 { get; private set; }
    public string EngineerA1Token { get; private set; } = "";
    public Guid EngineerA2 { get; private set; }
    public string EngineerA2Token { get; private set; } = "";
    public string EngineerB1Token { get; private set; } = "";
    public long TaskA1 { get; private set; }
    public string TaskA1Title { get; } = "Victim task " + Guid.NewGuid().ToString("N")[..8];
    public long HumanRequestA1 { get; private set; }
    public long ReviewA1 { get; private set; }
    public long PlanA1 { get; private set; }
    public Guid TurnA1 { get; private set; }

    /// <summary>Every key and token minted for this world (the leak tests grep for each).</summary>
    public List<string> Secrets { get; } = [];

    public static async Task<SecurityWorld> CreateAsync(Store store, IDictionary<string, string?>? settings = null, Action<WebApplicationBuilder>? configure = null)
    {
        var admin = "ent_admin_test_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var all = DispatchHarness.FastSettings(settings);
        all["urls"] = "http://0.0.0.0:0";
        all["Security:AdminKey"] = admin;
        var server = await TestServer.StartAsync(store, all, configure: configure);
        // The shared helpers (DispatchHarness) use server.Http: let it act as the administrator.
        server.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", admin);
        var world = new SecurityWorld
        {
            Server = server,
            AdminKey = admin,
            Anonymous = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.BaseUrl.Port}"), Timeout = TimeSpan.FromSeconds(60) },
        };
        world.Secrets.Add(admin);
        await world.PopulateAsync();
        return world;
    }

    /// <summary>A client on 127.0.0.1 sending <paramref name="secret"/> as bearer token.</summary>
    public HttpClient As(string secret)
    {
        var http = new HttpClient { BaseAddress = Anonymous.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return http;
    }

    /// <summary>The value to put for a route parameter naming a resource of team A1 (org A).</summary>
    public string VictimId(ResourceKind kind) => kind switch
    {
        ResourceKind.Org => OrgA.ToString(),
        ResourceKind.Team => TeamA1.ToString(),
        ResourceKind.Agent => EngineerA1.ToString(),
        ResourceKind.Task => TaskA1.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ResourceKind.Turn => TurnA1.ToString(),
        ResourceKind.Review => ReviewA1.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ResourceKind.Plan => PlanA1.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ResourceKind.HumanRequest => HumanRequestA1.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ResourceKind.ApiKey => KeyAId.ToString(),
        _ => "x",
    };

    private async Task PopulateAsync()
    {
        var s = Server;
        OrgA = await s.DefaultOrgIdAsync();
        OrgB = (await s.PostJsonAsync("/api/v1/orgs", """{"name": "Other org", "slug": "other"}"""))["id"]!.GetValue<Guid>();
        (KeyAId, KeyA) = await MintKeyAsync(OrgA);
        (_, KeyB) = await MintKeyAsync(OrgB);

        (TeamA1, ManagerA1) = await TeamAsync(OrgA, "platform");
        (TeamA2, _) = await TeamAsync(OrgA, "mobile");
        // Same slug as A1 in the other org: a slug must resolve inside the caller's org.
        (TeamB1, _) = await TeamAsync(OrgB, "platform");
        (EngineerA1, EngineerA1Token) = await EngineerAsync(TeamA1, "eng-a1");
        (EngineerA2, EngineerA2Token) = await EngineerAsync(TeamA2, "eng-a2");
        (_, EngineerB1Token) = await EngineerAsync(TeamB1, "eng-b1");

        // Unassigned, so nothing is dispatched for it.
        TaskA1 = (await s.PostJsonAsync($"/api/v1/teams/{TeamA1}/tasks", $$"""{"title": "{{TaskA1Title}}", "priority": "high"}"""))["id"]!.GetValue<long>();
        await s.PostJsonAsync($"/api/v1/teams/{TeamA1}/messages", $$"""{"recipient_id": "{{ManagerA1}}", "body": "hello A1", "sender_name": "ana"}""");
        HumanRequestA1 = (await s.PostJsonAsync($"/api/v1/agents/{EngineerA1}/human-requests", """{"question": "Which database?"}"""))["id"]!.GetValue<long>();

        // Rows no route creates without a repository or a running agent: put them in as their write paths would.
        await using var db = DispatchHarness.Db(s);
        var now = DateTime.UtcNow;
        var turn = new Turn { Id = Guid.CreateVersion7(), AgentId = EngineerA1, TeamId = TeamA1, TaskId = TaskA1, State = TurnState.Succeeded, Node = "test", StartedAt = now, EndedAt = now, HeartbeatAt = now, LeaseUntil = now, Log = "victim log" };
        var review = new Entourage.Server.Storage.Entities.Review { TaskId = TaskA1, TeamId = TeamA1, RequestedAt = now, Summary = "victim review" };
        var plan = new Plan { TeamId = TeamA1, ParentTaskId = TaskA1, CreatedAt = now, UpdatedAt = now };
        db.AddRange(turn, review, plan);
        await db.SaveChangesAsync();
        TurnA1 = turn.Id;
        ReviewA1 = review.Id;
        PlanA1 = plan.Id;
    }

    private async Task<(Guid Id, string Key)> MintKeyAsync(Guid org)
    {
        var k = await Server.PostJsonAsync($"/api/v1/orgs/{org}/api-keys", """{"name": "test"}""");
        var key = k["key"]!.GetValue<string>();
        Secrets.Add(key);
        return (k["id"]!.GetValue<Guid>(), key);
    }

    private async Task<(Guid Team, Guid Manager)> TeamAsync(Guid org, string slug)
    {
        var t = await Server.PostJsonAsync($"/api/v1/orgs/{org}/teams", new JsonObject { ["name"] = slug, ["slug"] = slug }.ToJsonString());
        if (t["manager"]?["token"]?.GetValue<string>() is { } token) Secrets.Add(token);
        return (t["id"]!.GetValue<Guid>(), t["manager"]!["id"]!.GetValue<Guid>());
    }

    private async Task<(Guid Id, string Token)> EngineerAsync(Guid team, string name)
    {
        var a = await Server.PostJsonAsync($"/api/v1/teams/{team}/agents", new JsonObject { ["name"] = name, ["role"] = "engineer", ["model"] = "fake" }.ToJsonString());
        var token = a["token"]!.GetValue<string>();
        Secrets.Add(token);
        return (a["id"]!.GetValue<Guid>(), token);
    }

    public async ValueTask DisposeAsync()
    {
        Anonymous.Dispose();
        await Server.DisposeAsync();
    }
}
