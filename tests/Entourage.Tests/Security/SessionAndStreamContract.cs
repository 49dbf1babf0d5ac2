using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Entourage.Tests.Infrastructure;

namespace Entourage.Tests.Security;

/// <summary>
/// Off loopback: the dashboard's sign-in cookie, the change stream filtered to the caller's org or team, and the
/// body size limit on every kind of endpoint.
/// </summary>
public abstract class SessionAndStreamContract(Store store) : IAsyncLifetime
{
    private SecurityWorld _world = null!;

    public async ValueTask InitializeAsync() => _world = await SecurityWorld.CreateAsync(store);

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    [Fact]
    public async Task The_dashboard_signs_in_with_the_admin_key_into_an_HttpOnly_cookie()
    {
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = _world.Anonymous.BaseAddress };
        browser.DefaultRequestHeaders.Accept.ParseAdd("text/html");

        (await browser.GetAsync("/login")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var orgKey = await browser.PostAsync("/login", Form(_world.KeyA, "/"));
        orgKey.StatusCode.ShouldBe(HttpStatusCode.Forbidden); // org keys work on the API, not the all-orgs dashboard
        (await browser.PostAsync("/login", Form("ent_key_wrong", "/"))).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        cookies.GetCookies(_world.Anonymous.BaseAddress!).Count.ShouldBe(0);

        // An absolute return URL would make the form an open redirect: it goes to / instead.
        var signIn = await browser.PostAsync("/login", Form(_world.AdminKey, "//evil.example/x"));
        signIn.StatusCode.ShouldBe(HttpStatusCode.SeeOther);
        signIn.Headers.Location!.OriginalString.ShouldBe("/");
        var setCookie = string.Join(";", signIn.Headers.GetValues("Set-Cookie")).ToLowerInvariant();
        setCookie.ShouldContain("httponly");
        setCookie.ShouldContain("samesite=strict");

        (await browser.GetAsync("/")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await browser.GetAsync("/api/v1/orgs")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await browser.GetAsync("/logout")).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        cookies.GetCookies(_world.Anonymous.BaseAddress!).Where(c => c.Name == "entourage_key" && c.Value.Length > 0 && !c.Expired).ShouldBeEmpty();
        (await browser.GetAsync("/")).StatusCode.ShouldBe(HttpStatusCode.Redirect);
    }

    [Fact]
    public async Task The_change_stream_carries_only_the_callers_org_or_team()
    {
        foreach (var (secret, ownTeam) in new[] { (_world.KeyB, _world.TeamB1), (_world.EngineerA2Token, _world.TeamA2) })
        {
            using var http = _world.As(secret);
            http.Timeout = Timeout.InfiniteTimeSpan;
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            using var response = await http.GetAsync("/api/v1/events/stream", HttpCompletionOption.ResponseHeadersRead, cts.Token);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
            (await NextData(reader, cts.Token))!["kind"]!.GetValue<string>().ShouldBe("ready");

            // A change in team A1 first, then one in the caller's own team: the first must never arrive.
            await _world.Server.PostJsonAsync($"/api/v1/teams/{_world.TeamA1}/tasks", """{"title": "A1 change"}""");
            var own = await _world.Server.PostJsonAsync($"/api/v1/teams/{ownTeam}/tasks", """{"title": "own change"}""");
            while (true)
            {
                var e = await NextData(reader, cts.Token) ?? throw new ShouldAssertException("the stream ended");
                if (e["kind"]!.GetValue<string>() == "ping") continue;
                e["team_id"]!.GetValue<Guid>().ShouldBe(ownTeam, $"an event of another team reached {secret[..8]}…: {e.ToJsonString()}");
                if (e["kind"]!.GetValue<string>() == "task" && e["id"]!.GetValue<string>() == own["id"]!.ToString()) break;
            }
        }
    }

    [Fact]
    public async Task Bodies_over_1_MiB_are_refused_on_the_api_mcp_and_sign_in()
    {
        var big = new string('x', 1024 * 1024 + 10);
        using var admin = _world.As(_world.AdminKey);
        foreach (var path in new[] { $"/api/v1/teams/{_world.TeamA1}/tasks", "/mcp", "/login" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = new StringContent("{\"title\": \"" + big + "\"}", Encoding.UTF8, path == "/login" ? "application/x-www-form-urlencoded" : "application/json"),
            };
            request.Headers.Accept.ParseAdd("application/json");
            request.Headers.Accept.ParseAdd("text/event-stream");
            request.Headers.ExpectContinue = true;
            var r = await (path == "/mcp" ? _world.As(_world.EngineerA1Token) : admin).SendAsync(request);
            ((int)r.StatusCode).ShouldBeOneOf([413, 400], $"{path}: {(int)r.StatusCode}");
        }
    }

    private static FormUrlEncodedContent Form(string key, string back) => new([new("key", key), new("return", back)]);

    private static async Task<JsonNode?> NextData(StreamReader reader, CancellationToken ct)
    {
        while (await reader.ReadLineAsync(ct) is { } line)
            if (line.StartsWith("data:", StringComparison.Ordinal)) return JsonNode.Parse(line[5..]);
        return null;
    }
}

public sealed class SessionAndStreamSqlite() : SessionAndStreamContract(Store.Sqlite);

public sealed class SessionAndStreamPostgres() : SessionAndStreamContract(Store.Postgres);
