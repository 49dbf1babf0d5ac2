using System.Net;
using Entourage.Tests.Infrastructure;

namespace Entourage.Tests.Features;

/// <summary>Team creation contract, run once per store (the pattern every contract suite follows).</summary>
public abstract class TeamsContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Creating_a_team_creates_its_manager()
    {
        var org = await _server.DefaultOrgIdAsync();
        var team = await _server.PostJsonAsync($"/api/v1/orgs/{org}/teams", """{"name": "Platform", "slug": "platform"}""");
        team["slug"]!.GetValue<string>().ShouldBe("platform");
        team["manager"]!["role"]!.GetValue<string>().ShouldBe("manager");
        var again = await _server.GetJsonAsync($"/api/v1/teams/{team["id"]}");
        again["manager"]!["id"]!.GetValue<Guid>().ShouldBe(team["manager"]!["id"]!.GetValue<Guid>());
    }

    [Fact]
    public async Task Unknown_field_is_a_400_naming_it_and_creates_nothing()
    {
        var org = await _server.DefaultOrgIdAsync();
        var r = await _server.Http.PostAsync($"/api/v1/orgs/{org}/teams",
            new StringContent("""{"name": "Platform", "slugg": "platform"}""", System.Text.Encoding.UTF8, "application/json"));
        r.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        r.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await r.Content.ReadAsStringAsync()).ShouldContain("slugg");
        (await _server.GetJsonAsync($"/api/v1/orgs/{org}/teams")).AsArray().Count.ShouldBe(0);
    }
}

public sealed class TeamsContractSqlite() : TeamsContract(Store.Sqlite);

public sealed class TeamsContractPostgres() : TeamsContract(Store.Postgres);
