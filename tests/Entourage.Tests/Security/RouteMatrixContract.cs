using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Entourage.Server.Security;
using Entourage.Tests.Infrastructure;

namespace Entourage.Tests.Security;

/// <summary>
/// Every route of the app (read from its endpoint data sources), tried against a server bound to every interface:
/// without credentials, with another org's key, with another team's agent token and from a foreign origin — all
/// refused; and on a loopback-only server with a forged Host or Origin — all refused. Ids in the paths are real
/// resources of team A1, so a 404 means "refused", not "absent".
/// </summary>
public abstract class RouteMatrixContract(Store store) : IAsyncLifetime
{
    private SecurityWorld _world = null!;
    private List<RouteCase> _routes = null!;

    public async ValueTask InitializeAsync()
    {
        _world = await SecurityWorld.CreateAsync(store);
        _routes = RouteCase.All(_world);
    }

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    [Fact]
    public async Task The_app_maps_the_routes_the_matrix_expects()
    {
        // A sanity floor: REST, MCP, the dashboard and its hub, OpenAPI and health are all enumerated.
        _routes.Count(r => r.IsApi).ShouldBeGreaterThanOrEqualTo(60);
        _routes.ShouldContain(r => r.IsMcp);
        _routes.ShouldContain(r => r.Path.StartsWith("/_blazor", StringComparison.Ordinal));
        _routes.ShouldContain(r => r.Path == "/");
        _routes.ShouldContain(r => r.IsOpenApi);
        _routes.ShouldContain(r => r.Key == "GET /api/v1/events/stream");
        TestContext.Current.TestOutputHelper?.WriteLine($"{_routes.Count} routes, {_routes.Count(r => r.IsApi)} under /api");
    }

    [Fact]
    public void Every_api_route_has_a_scope_rule_and_every_rule_names_a_live_route()
    {
        var unclassified = new List<string>();
        foreach (var route in _routes.Where(r => r.IsApi))
        {
            var kinds = route.Endpoint.RoutePattern.Parameters.Select(p => RouteScopes.KindOf(route.Endpoint.RoutePattern, p)).ToList();
            if (kinds.Contains(ResourceKind.Unknown)) unclassified.Add($"{route.Key}: a parameter with no scope rule (RouteScopes.ByName/ByCollection)");
            else if (!kinds.Any(k => k != ResourceKind.None) && RouteScopes.RuleFor(route.Key) == UnscopedRule.Unknown)
                unclassified.Add($"{route.Key}: names no resource; list it in RouteScopes.Unscoped");
        }
        unclassified.ShouldBeEmpty();
        var live = _routes.Select(r => r.Key).ToHashSet();
        RouteScopes.AllListedKeys.Where(k => !live.Contains(k)).ShouldBeEmpty("stale entries in RouteScopes");
    }

    [Fact]
    public async Task Without_credentials_every_route_but_health_answers_401_naming_how_to_get_a_key()
    {
        var failures = new List<string>();
        foreach (var route in _routes.Where(r => !r.IsHealth))
        {
            using var request = route.Request(_world);
            using var r = await _world.Anonymous.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var body = await r.Content.ReadAsStringAsync();
            if (r.StatusCode != HttpStatusCode.Unauthorized) failures.Add($"{route}: {(int)r.StatusCode}");
            else if (!route.IsMcp && (!body.Contains("Authorization: Bearer", StringComparison.Ordinal) || !body.Contains("api-keys", StringComparison.Ordinal)
                                       || r.Content.Headers.ContentType?.MediaType != "application/problem+json"))
                failures.Add($"{route}: 401 without a problem+json saying how to get a key: {body}");
        }
        failures.ShouldBeEmpty();
        (await _world.Anonymous.GetAsync("/health")).StatusCode.ShouldBe(HttpStatusCode.OK);

        // A browser asking for a page is sent to the sign-in form instead.
        using var page = new HttpRequestMessage(HttpMethod.Get, "/");
        page.Headers.Accept.ParseAdd("text/html");
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _world.Anonymous.BaseAddress };
        var redirect = await noRedirect.SendAsync(page);
        redirect.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        redirect.Headers.Location!.OriginalString.ShouldStartWith("/login");
    }

    [Fact]
    public async Task An_unknown_or_revoked_key_is_refused_like_no_key()
    {
        using var wrong = _world.As("ent_key_" + new string('x', 43));
        (await wrong.GetAsync("/api/v1/orgs")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        var minted = await _world.Server.PostJsonAsync($"/api/v1/orgs/{_world.OrgA}/api-keys", """{"name": "to revoke"}""");
        using var revoked = _world.As(minted["key"]!.GetValue<string>());
        (await revoked.GetAsync("/api/v1/orgs")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await _world.Server.Http.DeleteAsync($"/api/v1/api-keys/{minted["id"]}")).EnsureSuccessStatusCode();
        (await revoked.GetAsync("/api/v1/orgs")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Another_orgs_key_reaches_nothing_of_org_A()
    {
        using var other = _world.As(_world.KeyB);
        var failures = new List<string>();
        foreach (var route in _routes.Where(r => !r.IsHealth && !r.IsOpenApi))
        {
            var rule = RouteScopes.RuleFor(route.Key);
            if (rule == UnscopedRule.HandlerFilters && route.Key != "POST /api/v1/tasks/wait") continue; // lists: checked below
            using var request = route.Request(_world);
            if (route.IsMcp) request.Headers.Add("X-Entourage-Agent", _world.EngineerA1.ToString());
            using var r = await other.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var body = await r.Content.ReadAsStringAsync();
            if (r.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.Forbidden)) failures.Add($"{route}: {(int)r.StatusCode} {Trim(body)}");
            else if (body.Contains(_world.TaskA1Title, StringComparison.Ordinal)) failures.Add($"{route}: leaked A1's task");
        }
        failures.ShouldBeEmpty();

        // Lists across teams show only org B.
        (await GetArray(other, "/api/v1/orgs")).Select(o => o!["id"]!.GetValue<Guid>()).ShouldBe([_world.OrgB]);
        (await GetArray(other, "/api/v1/human-requests")).ShouldBeEmpty();
        (await GetArray(other, "/api/v1/orgs/other/teams")).Select(t => t!["id"]!.GetValue<Guid>()).ShouldBe([_world.TeamB1]);
        // The slug "platform" exists in both orgs: org B's key gets org B's team.
        (await GetObject(other, "/api/v1/teams/platform"))["id"]!.GetValue<Guid>().ShouldBe(_world.TeamB1);
        (await GetObject(other, "/api/v1/settings/teams/platform")).ToJsonString().ShouldNotContain(_world.TeamA1.ToString());
        // Not-found for another org's id reads exactly like not-found for an id that never existed.
        var foreign = await other.GetAsync($"/api/v1/tasks/{_world.TaskA1}");
        var absent = await other.GetAsync("/api/v1/tasks/987654321");
        foreign.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        absent.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        Problem(await foreign.Content.ReadAsStringAsync()).ShouldBe(Problem(await absent.Content.ReadAsStringAsync()).Replace("987654321", _world.TaskA1.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        // Nothing changed: A's key still works, A's task is untouched.
        using var owner = _world.As(_world.KeyA);
        (await GetObject(owner, $"/api/v1/tasks/{_world.TaskA1}"))["title"]!.GetValue<string>().ShouldBe(_world.TaskA1Title);
    }

    [Fact]
    public async Task Another_teams_agent_token_reaches_nothing_of_team_A1()
    {
        using var other = _world.As(_world.EngineerA2Token);
        var failures = new List<string>();
        foreach (var route in _routes.Where(r => !r.IsHealth && !r.IsOpenApi && !r.IsMcp))
        {
            var rule = RouteScopes.RuleFor(route.Key);
            if (rule == UnscopedRule.HandlerFilters && route.Key != "POST /api/v1/tasks/wait") continue;
            using var request = route.Request(_world);
            using var r = await other.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var body = await r.Content.ReadAsStringAsync();
            if (r.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.Forbidden)) failures.Add($"{route}: {(int)r.StatusCode} {Trim(body)}");
            else if (body.Contains(_world.TaskA1Title, StringComparison.Ordinal)) failures.Add($"{route}: leaked A1's task");
        }
        failures.ShouldBeEmpty();
        (await GetArray(other, "/api/v1/human-requests")).ShouldBeEmpty();
        (await GetArray(other, "/api/v1/orgs")).Select(o => o!["id"]!.GetValue<Guid>()).ShouldBe([_world.OrgA]);

        // Over MCP the same token names its own agent; A1's task does not exist for it.
        using var call = new HttpRequestMessage(HttpMethod.Post, "/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_task","arguments":{"task_id":TASK}}}""".Replace("TASK", _world.TaskA1.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), Encoding.UTF8, "application/json"),
        };
        call.Headers.Accept.ParseAdd("application/json");
        call.Headers.Accept.ParseAdd("text/event-stream");
        var mcp = await (await other.SendAsync(call)).Content.ReadAsStringAsync();
        mcp.ShouldContain("\"isError\":true");
        mcp.ShouldNotContain(_world.TaskA1Title);

        // Its own team is open to it, operator actions are not.
        using var mine = _world.As(_world.EngineerA1Token);
        (await GetObject(mine, $"/api/v1/tasks/{_world.TaskA1}"))["title"]!.GetValue<string>().ShouldBe(_world.TaskA1Title);
        (await mine.PostAsync($"/api/v1/agents/{_world.EngineerA1}/token/rotate", null)).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await mine.PatchAsync($"/api/v1/settings/teams/{_world.TeamA1}", Json("""{"daily_cost_limit_usd": 1000}"""))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await mine.PostAsync($"/api/v1/orgs/{_world.OrgA}/api-keys", Json("""{"name": "escape"}"""))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_foreign_origin_is_refused_on_every_route_even_with_the_admin_key()
    {
        using var admin = _world.As(_world.AdminKey);
        var failures = new List<string>();
        foreach (var route in _routes)
        {
            using var request = route.Request(_world);
            request.Headers.Add("Origin", "http://evil.example");
            using var r = await admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (r.StatusCode != HttpStatusCode.Forbidden) failures.Add($"{route}: {(int)r.StatusCode}");
        }
        failures.ShouldBeEmpty();
        // The server's own origin is fine.
        using var same = new HttpRequestMessage(HttpMethod.Get, "/api/v1/orgs");
        same.Headers.Add("Origin", _world.Anonymous.BaseAddress!.GetLeftPart(UriPartial.Authority));
        (await admin.SendAsync(same)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task On_loopback_a_forged_Host_or_a_foreign_Origin_is_refused_on_every_route()
    {
        await using var local = await TestServer.StartAsync(store);
        var failures = new List<string>();
        foreach (var route in _routes)
        {
            foreach (var (header, value) in new[] { ("Host", "rebind.evil.example"), ("Origin", "http://evil.example"), ("Origin", "null") })
            {
                using var request = route.Request(_world);
                if (header == "Host") request.Headers.Host = value;
                else request.Headers.Add(header, value);
                using var r = await local.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                if (r.StatusCode != HttpStatusCode.Forbidden) failures.Add($"{route} with {header}: {value}: {(int)r.StatusCode}");
            }
        }
        failures.ShouldBeEmpty();
        // And without a key it is still open to the local user, as the spec's curls need.
        (await local.Http.GetAsync("/api/v1/orgs")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_owner_and_the_admin_reach_their_resources()
    {
        using var owner = _world.As(_world.KeyA);
        (await GetObject(owner, "/api/v1/teams/platform"))["id"]!.GetValue<Guid>().ShouldBe(_world.TeamA1);
        (await GetArray(owner, "/api/v1/human-requests")).Select(h => h!["id"]!.GetValue<long>()).ShouldBe([_world.HumanRequestA1]);
        (await owner.GetAsync($"/api/v1/turns/{_world.TurnA1}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await owner.GetAsync($"/api/v1/reviews/{_world.ReviewA1}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await owner.GetAsync($"/api/v1/plans/{_world.PlanA1}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await owner.GetAsync($"/api/v1/teams/{_world.TeamA1}/costs")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await owner.GetAsync("/openapi/v1.json")).StatusCode.ShouldBe(HttpStatusCode.OK);
        // The dashboard shows every org: it takes the admin key, not an org key.
        (await owner.GetAsync("/")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);

        using var admin = _world.As(_world.AdminKey);
        (await GetArray(admin, "/api/v1/orgs")).Count.ShouldBe(2);
        (await admin.GetAsync("/")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Trim(string s) => s.Length > 300 ? s[..300] : s;

    private static string Problem(string json)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        return $"{node["status"]} {node["title"]} {node["detail"]}";
    }

    private static async Task<JsonArray> GetArray(HttpClient http, string path)
    {
        var r = await http.GetAsync(path);
        var body = await r.Content.ReadAsStringAsync();
        r.IsSuccessStatusCode.ShouldBeTrue($"GET {path}: {(int)r.StatusCode} {body}");
        return JsonNode.Parse(body)!.AsArray();
    }

    private static async Task<JsonObject> GetObject(HttpClient http, string path)
    {
        var r = await http.GetAsync(path);
        var body = await r.Content.ReadAsStringAsync();
        r.IsSuccessStatusCode.ShouldBeTrue($"GET {path}: {(int)r.StatusCode} {body}");
        return JsonNode.Parse(body)!.AsObject();
    }
}

public sealed class RouteMatrixSqlite() : RouteMatrixContract(Store.Sqlite);

public sealed class RouteMatrixPostgres() : RouteMatrixContract(Store.Postgres);
