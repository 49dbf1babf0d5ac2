using System.Net;
using Entourage.Tests.Infrastructure;

namespace Entourage.Tests.Features;

/// <summary>A team has exactly one manager, from its creation on: no way in (create, role change), no way out (delete, demote).</summary>
public abstract class TeamManagerContract(Store store) : IAsyncLifetime
{
    private TestServer _s = null!;

    public async ValueTask InitializeAsync() => _s = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task A_second_manager_is_refused_on_create_as_on_role_change()
    {
        var t = await _s.TeamAsync();
        var before = await _s.FingerprintAsync();
        var created = (await _s.PostAsync($"/api/v1/teams/{t.Id}/agents", """{"name": "mgr2", "role": "manager"}""")).ShouldBe(HttpStatusCode.Conflict);
        var patched = (await _s.PatchAsync($"/api/v1/agents/{t.Backend}", """{"role": "manager"}""")).ShouldBe(HttpStatusCode.Conflict);
        created.ContentType.ShouldBe("application/problem+json");
        created.Json["detail"].Str().ShouldBe(patched.Json["detail"].Str());
        created.Json["detail"].Str().ShouldContain($"PATCH /api/v1/agents/{t.Manager}");
        (await _s.FingerprintAsync()).ShouldBe(before);
        var agents = (await _s.GetAsync($"/api/v1/teams/{t.Id}/agents")).Json.AsArray();
        agents.Count(a => a!["role"].Str() == "manager").ShouldBe(1);
    }

    [Fact]
    public async Task Racing_manager_creates_all_get_409()
    {
        var t = await _s.TeamAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 6).Select(async i =>
        {
            await gate.Task;
            return await _s.PostAsync($"/api/v1/teams/{t.Id}/agents", $$"""{"name": "mgr-{{i}}", "role": "manager"}""");
        }).ToList();
        gate.SetResult();
        foreach (var r in await Task.WhenAll(calls)) r.ShouldBe(HttpStatusCode.Conflict);
        (await _s.GetAsync($"/api/v1/teams/{t.Id}/agents")).Json.AsArray().Count(a => a!["role"].Str() == "manager").ShouldBe(1);
    }

    [Fact]
    public async Task Deleting_the_manager_gives_advice_the_api_can_follow()
    {
        var t = await _s.TeamAsync();
        var r = (await _s.DeleteAsync($"/api/v1/agents/{t.Manager}")).ShouldBe(HttpStatusCode.Conflict);
        r.Json["detail"].Str().ShouldNotContain("Delete the team");
        r.Json["detail"].Str().ShouldContain($"PATCH /api/v1/agents/{t.Manager}");
    }
}

public sealed class TeamManagerContractSqlite() : TeamManagerContract(Store.Sqlite);

public sealed class TeamManagerContractPostgres() : TeamManagerContract(Store.Postgres);
