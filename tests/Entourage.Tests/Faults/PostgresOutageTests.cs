using System.Net;
using System.Text.Json.Nodes;
using Entourage.Tests.Dispatch;
using Entourage.Tests.Infrastructure;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Faults;

/// <summary>
/// PostgreSQL goes away under a running server (its own private cluster, stopped cleanly): API calls that need the
/// database answer 503 problem details with Retry-After, not 500, so clients know to retry; once the database is
/// back the same calls succeed again without restarting the server.
/// </summary>
public sealed class PostgresOutageTests : IAsyncLifetime
{
    private PrivatePostgres _pg = null!;

    public async ValueTask InitializeAsync() => _pg = await PrivatePostgres.StartAsync();

    public async ValueTask DisposeAsync() => await _pg.DisposeAsync();

    [Fact]
    public async Task While_postgres_is_down_the_api_answers_503_with_retry_after_and_recovers_by_itself()
    {
        await using var s = await TestServer.StartAsync(Store.Postgres, FastSettings(), postgresConnectionString: _pg.ConnectionString);
        var team = await CreateTeamAsync(s);
        (await s.Http.GetAsync($"/api/v1/teams/{team}/tasks")).StatusCode.ShouldBe(HttpStatusCode.OK);

        await _pg.StopServerAsync(immediate: false);
        try
        {
            var read = await s.Http.GetAsync($"/api/v1/teams/{team}/tasks");
            await ShouldBeUnavailableAsync(read);
            var write = await s.Http.PostAsync($"/api/v1/teams/{team}/tasks",
                new StringContent(new JsonObject { ["title"] = "Written during the outage" }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
            await ShouldBeUnavailableAsync(write);
        }
        finally
        {
            await _pg.StartServerAsync();
        }

        // Pooled connections broken by the outage are dropped as they fail; a client honouring 503 gets through.
        HttpResponseMessage? after = null;
        for (var attempt = 0; attempt < 20 && after?.StatusCode != HttpStatusCode.OK; attempt++)
            after = await s.Http.GetAsync($"/api/v1/teams/{team}/tasks");
        after!.StatusCode.ShouldBe(HttpStatusCode.OK, await after.Content.ReadAsStringAsync());
        (await after.Content.ReadAsStringAsync()).ShouldNotContain("Written during the outage");
    }

    private static async Task ShouldBeUnavailableAsync(HttpResponseMessage r)
    {
        var body = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, body);
        r.Headers.RetryAfter.ShouldNotBeNull(body);
        r.Headers.RetryAfter!.Delta.ShouldNotBeNull();
        r.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = JsonNode.Parse(body)!;
        problem["status"]!.GetValue<int>().ShouldBe(503);
        problem["detail"]!.GetValue<string>().ShouldContain("Retry");
    }
}
