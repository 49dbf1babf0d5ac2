using System.Net;
using System.Text.Json.Nodes;
using Entourage.Server.Runners;
using Entourage.Tests.Infrastructure;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Runners;

/// <summary>
/// The placement and node API of issue #10 on both stores: runner_labels on agents, teams and team settings
/// (validated, normalised, shown), GET /nodes with the server's own node, and a runner refusing SQLite.
/// </summary>
public abstract class PlacementApiContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(store, FastSettings(new Dictionary<string, string?> { ["Dispatch:Labels"] = "local" }));

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonNode Body)> SendAsync(HttpMethod method, string path, string json)
    {
        var r = await _server.Http.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") });
        return (r.StatusCode, JsonNode.Parse(await r.Content.ReadAsStringAsync())!);
    }

    [Fact]
    public async Task Runner_labels_are_validated_normalised_and_shown_on_agents_and_teams()
    {
        var org = await _server.DefaultOrgIdAsync();
        var (status, team) = await SendAsync(HttpMethod.Post, $"/api/v1/orgs/{org}/teams",
            """{"name": "Platform", "slug": "platform", "runner_labels": ["EU-West", "gpu", "gpu"], "repo_url": "https://git.example.com/platform.git"}""");
        status.ShouldBe(HttpStatusCode.Created);
        team["runner_labels"]!.AsArray().Select(l => l!.GetValue<string>()).ShouldBe(["eu-west", "gpu"]);
        team["repo_url"]!.GetValue<string>().ShouldBe("https://git.example.com/platform.git");
        var teamId = team["id"]!.GetValue<Guid>();

        var (bad, problem) = await SendAsync(HttpMethod.Post, $"/api/v1/teams/{teamId}/agents",
            """{"name": "eng", "runner_labels": ["ok", "no spaces", ""]}""");
        bad.ShouldBe(HttpStatusCode.UnprocessableEntity);
        problem["errors"]!["runner_labels[1]"].ShouldNotBeNull();
        problem["errors"]!["runner_labels[2]"].ShouldNotBeNull();
        (await _server.GetJsonAsync($"/api/v1/teams/{teamId}"))["agents"]!.AsArray().Count.ShouldBe(1, "nothing was created");

        var (created, agent) = await SendAsync(HttpMethod.Post, $"/api/v1/teams/{teamId}/agents", """{"name": "eng", "runner_labels": ["linux"]}""");
        created.ShouldBe(HttpStatusCode.Created);
        agent["runner_labels"]!.AsArray().Select(l => l!.GetValue<string>()).ShouldBe(["linux"]);
        var agentId = agent["id"]!.GetValue<Guid>();
        var (patched, after) = await SendAsync(HttpMethod.Patch, $"/api/v1/agents/{agentId}", """{"runner_labels": []}""");
        patched.ShouldBe(HttpStatusCode.OK);
        after["runner_labels"]!.AsArray().ShouldBeEmpty();

        var (tooMany, _) = await SendAsync(HttpMethod.Patch, $"/api/v1/settings/teams/{teamId}",
            new JsonObject { ["runner_labels"] = new JsonArray(Enumerable.Range(0, 17).Select(i => (JsonNode)$"l{i}").ToArray()) }.ToJsonString());
        tooMany.ShouldBe(HttpStatusCode.UnprocessableEntity);
        var (ok, settings) = await SendAsync(HttpMethod.Patch, $"/api/v1/settings/teams/{teamId}", """{"runner_labels": ["gpu"]}""");
        ok.ShouldBe(HttpStatusCode.OK);
        settings["runner_labels"]!.AsArray().Select(l => l!.GetValue<string>()).ShouldBe(["gpu"]);
        var (badUrl, urlProblem) = await SendAsync(HttpMethod.Patch, $"/api/v1/teams/{teamId}", """{"repo_url": "--upload-pack=evil"}""");
        badUrl.ShouldBe(HttpStatusCode.UnprocessableEntity);
        urlProblem["errors"]!["repo_url"].ShouldNotBeNull();
    }

    [Fact]
    public async Task Nodes_lists_this_server_with_its_role_labels_and_heartbeat()
    {
        await WaitUntilAsync(_server, db => Task.FromResult(db.Nodes.Any()), "the server to register its node");
        var nodes = (await _server.GetJsonAsync("/api/v1/nodes")).AsArray();
        nodes.Count.ShouldBe(1);
        var n = nodes[0]!;
        n["role"]!.GetValue<string>().ShouldBe("server");
        n["state"]!.GetValue<string>().ShouldBe("active");
        n["labels"]!.AsArray().Select(l => l!.GetValue<string>()).ShouldBe(["local"]);
        n["running_turns"]!.GetValue<int>().ShouldBe(0);
        n["version"].ShouldNotBeNull();
        (await _server.GetJsonAsync($"/api/v1/nodes?id={n["id"]!.GetValue<string>()}")).AsArray().Count.ShouldBe(1);
        (await _server.GetJsonAsync("/api/v1/nodes?id=nope")).AsArray().ShouldBeEmpty();
        (await _server.Http.GetAsync("/api/v1/nodes?state=sleeping")).StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public void A_runner_refuses_sqlite_and_says_why()
    {
        var ex = Should.Throw<RunnerConfigurationException>(() => RunnerHost.Build(new RunnerSettings(ServerUrl: "http://127.0.0.1:8000", HostArgs: [])));
        ex.Message.ShouldContain("PostgreSQL");
        ex.Message.ShouldContain("SQLite");
        Should.Throw<RunnerConfigurationException>(() => RunnerHost.Build(new RunnerSettings(Postgres: "Data Source=.entourage/entourage.db", ServerUrl: "http://127.0.0.1:8000", HostArgs: [])))
            .Message.ShouldContain("single-process");
        Should.Throw<RunnerConfigurationException>(() => RunnerHost.Build(new RunnerSettings(Postgres: "Host=127.0.0.1", HostArgs: [])))
            .Message.ShouldContain("--server");
    }
}

public sealed class PlacementApiContractSqlite() : PlacementApiContract(Store.Sqlite);

public sealed class PlacementApiContractPostgres() : PlacementApiContract(Store.Postgres);
