using System.Net;
using Entourage.Tests.Infrastructure;

namespace Entourage.Tests.Features;

/// <summary>
/// Creates racing on one unique name (org slug, team slug per org, agent name per team): exactly one 201, the rest
/// the same 409 a later duplicate gets, never a 500 from the store's unique index, and one row in the end.
/// </summary>
public abstract class UniqueNamesRaceContract(Store store) : IAsyncLifetime
{
    private const int Racers = 8;
    private TestServer _s = null!;

    public async ValueTask InitializeAsync() => _s = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task Racing_orgs_with_one_slug_give_one_201_and_409s()
    {
        await RaceAsync("/api/v1/orgs", """{"name": "RaceOrg"}""");
        (await _s.GetAsync("/api/v1/orgs")).Json.AsArray().Count(o => o!["slug"].Str() == "raceorg").ShouldBe(1);
    }

    [Fact]
    public async Task Racing_teams_with_one_slug_give_one_201_and_409s()
    {
        var org = await _s.DefaultOrgIdAsync();
        await RaceAsync($"/api/v1/orgs/{org}/teams", """{"name": "Race", "slug": "race1"}""");
        (await _s.GetAsync($"/api/v1/orgs/{org}/teams")).Json.AsArray().Count.ShouldBe(1);
    }

    [Fact]
    public async Task Racing_agents_with_one_name_give_one_201_and_409s()
    {
        var org = await _s.DefaultOrgIdAsync();
        var team = (await _s.PostAsync($"/api/v1/orgs/{org}/teams", """{"name": "Race", "slug": "race2"}""")).ShouldBe(HttpStatusCode.Created).Json["id"].Str();
        await RaceAsync($"/api/v1/teams/{team}/agents", """{"name": "eng-race"}""");
        (await _s.GetAsync($"/api/v1/teams/{team}/agents")).Json.AsArray().Count(a => a!["name"].Str() == "eng-race").ShouldBe(1);
    }

    /// <summary>Fires the same create <see cref="Racers"/> times at once; the losers must answer like a later duplicate.</summary>
    private async Task RaceAsync(string path, string json)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, Racers).Select(async _ =>
        {
            await gate.Task;
            return await _s.PostAsync(path, json);
        }).ToList();
        gate.SetResult();
        var replies = await Task.WhenAll(calls);

        foreach (var r in replies) ((int)r.Status).ShouldBeOneOf([201, 409], r.Text);
        replies.Count(r => r.Status == HttpStatusCode.Created).ShouldBe(1);
        var later = (await _s.PostAsync(path, json)).ShouldBe(HttpStatusCode.Conflict);
        foreach (var lost in replies.Where(r => r.Status == HttpStatusCode.Conflict))
        {
            lost.ContentType.ShouldBe("application/problem+json");
            lost.Json["detail"].Str().ShouldBe(later.Json["detail"].Str());
        }
    }
}

public sealed class UniqueNamesRaceContractSqlite() : UniqueNamesRaceContract(Store.Sqlite);

public sealed class UniqueNamesRaceContractPostgres() : UniqueNamesRaceContract(Store.Postgres);
