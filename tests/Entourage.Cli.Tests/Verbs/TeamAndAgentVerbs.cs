using Entourage.Cli.Infrastructure;
using Entourage.Cli.Tests.Support;
using Entourage.Tests.Infrastructure;

namespace Entourage.Cli.Tests.Verbs;

/// <summary>org, team and agent verbs against a real server, once per store.</summary>
public abstract class TeamAndAgentVerbs(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;
    private CliDriver _cli = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync(store);
        _cli = new CliDriver(_server.BaseUrl);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Org_list_and_create()
    {
        var list = await _cli.RunAsync("org", "list", "--json");
        list.ExitCode.ShouldBe(0, list.ToString());
        list.Json().AsArray().Select(o => o!["slug"]!.GetValue<string>()).ShouldContain("default");

        var created = await _cli.RunAsync("org", "create", "Acme Corp", "--json");
        created.ExitCode.ShouldBe(0, created.ToString());
        created.Json()["slug"]!.GetValue<string>().ShouldBe("acme-corp");

        var again = await _cli.RunAsync("org", "create", "Acme Corp");
        again.ExitCode.ShouldBe(ExitCodes.Conflict, again.ToString());
        again.Error.ShouldContain("already exists");
    }

    [Fact]
    public async Task Team_create_list_show_draw_the_spec_tree()
    {
        var created = await _cli.RunAsync("team", "create", "Platform", "--slug", "platform", "--json");
        created.ExitCode.ShouldBe(0, created.ToString());
        var team = created.Json();
        team["manager"]!["role"]!.GetValue<string>().ShouldBe("manager");
        team["manager"]!["token"]!.GetValue<string>().ShouldNotBeNullOrEmpty();

        (await _cli.RunAsync("agent", "add", "eng-backend", "--team", "platform", "--model", "claude-sonnet-4-20250514",
            "--description", "Backend specialist — Python, APIs, databases")).ExitCode.ShouldBe(0);
        (await _cli.RunAsync("agent", "add", "eng-frontend", "--team", "platform",
            "--config", """{"description": "Frontend specialist — React, TypeScript, UI", "tier": 2}""")).ExitCode.ShouldBe(0);

        var show = await _cli.RunAsync("team", "show", "platform");
        show.ExitCode.ShouldBe(0, show.ToString());
        show.Out.ShouldContain("Platform (team)");
        show.Out.ShouldContain("├── manager       — Decomposes features, coordinates");
        show.Out.ShouldContain("├── eng-backend   — Backend specialist — Python, APIs, databases");
        show.Out.ShouldContain("└── eng-frontend  — Frontend specialist — React, TypeScript, UI");

        var list = await _cli.RunAsync("team", "list", "--json");
        list.Json().AsArray().Single()!["slug"]!.GetValue<string>().ShouldBe("platform");
        var table = await _cli.RunAsync("team", "list");
        table.Out.ShouldContain("platform");
        table.Out.ShouldContain("Platform");
    }

    [Fact]
    public async Task Agent_add_list_show_remove_by_name()
    {
        (await _cli.RunAsync("team", "create", "Platform")).ExitCode.ShouldBe(0);
        var added = await _cli.RunAsync("agent", "add", "eng-1", "-t", "platform", "--adapter", "command", "--command", "/bin/true", "--json");
        added.ExitCode.ShouldBe(0, added.ToString());
        var id = added.Json()["id"]!.GetValue<Guid>();
        added.Json()["config"]!["command"]!.GetValue<string>().ShouldBe("/bin/true");

        var list = await _cli.RunAsync("agent", "list", "--team", "platform", "--json");
        list.Json().AsArray().Select(a => a!["name"]!.GetValue<string>()).ShouldBe(["manager", "eng-1"], ignoreOrder: true);

        var byName = await _cli.RunAsync("agent", "show", "eng-1", "--team", "platform", "--json");
        byName.Json()["id"]!.GetValue<Guid>().ShouldBe(id);
        var byId = await _cli.RunAsync("agent", "show", id.ToString());
        byId.ExitCode.ShouldBe(0, byId.ToString());
        byId.Out.ShouldContain("eng-1");

        var duplicate = await _cli.RunAsync("agent", "add", "eng-1", "-t", "platform");
        duplicate.ExitCode.ShouldBe(ExitCodes.Conflict, duplicate.ToString());

        // Not a terminal: no prompt, the removal just happens.
        var removed = await _cli.RunAsync("agent", "remove", "eng-1", "--team", "platform");
        removed.ExitCode.ShouldBe(0, removed.ToString());
        (await _cli.RunAsync("agent", "show", id.ToString())).ExitCode.ShouldBe(ExitCodes.NotFound);
        (await _cli.RunAsync("agent", "show", "eng-1", "--team", "platform")).ExitCode.ShouldBe(ExitCodes.NotFound);
    }

    [Fact]
    public async Task Not_found_conflict_and_invalid_input_have_their_exit_codes()
    {
        var missing = await _cli.RunAsync("team", "show", "nope", "--json");
        missing.ExitCode.ShouldBe(ExitCodes.NotFound);
        missing.Out.ShouldBeEmpty();
        System.Text.Json.Nodes.JsonNode.Parse(missing.Error)!["error"]!.GetValue<string>().ShouldBe("not_found");
        // The API's "List them with GET…" becomes the verb that lists them.
        var plain = await _cli.RunAsync("team", "show", "nope");
        plain.Error.ShouldContain("List them with `entourage team list` to find a valid id.");
        plain.Error.ShouldNotContain("with GET");

        (await _cli.RunAsync("team", "create", "Platform")).ExitCode.ShouldBe(0);
        var conflict = await _cli.RunAsync("team", "create", "Platform");
        conflict.ExitCode.ShouldBe(ExitCodes.Conflict);
        conflict.Error.ShouldContain("slug");

        var invalid = await _cli.RunAsync("team", "create", "Bad", "--slug", "Not A Slug!");
        invalid.ExitCode.ShouldBe(ExitCodes.Usage, invalid.ToString());
        invalid.Error.ShouldContain("slug");

        var noTeam = await _cli.RunAsync("agent", "list");
        noTeam.ExitCode.ShouldBe(ExitCodes.Usage);
        noTeam.Error.ShouldContain("--team");
    }

    /// <summary>Records the Authorization header of every request, then sends it on to the real server.</summary>
    private sealed class AuthRecorder() : DelegatingHandler(new SocketsHttpHandler())
    {
        public List<string?> Seen { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            Seen.Add(request.Headers.Authorization?.ToString());
            return base.SendAsync(request, ct);
        }
    }

    private async Task<List<string?>> HeadersSentAsync(Uri? url, Dictionary<string, string?> env)
    {
        var recorder = new AuthRecorder();
        var r = await new CliDriver(url, env: env) { HttpHandler = recorder }.RunAsync("org", "list", "--json");
        r.ExitCode.ShouldBe(0, r.ToString());
        return recorder.Seen;
    }

    [Fact]
    public async Task The_token_comes_from_ENTOURAGE_TOKEN_or_the_config_file_and_url_from_ENTOURAGE_URL()
    {
        // Real org API keys: the server refuses a bearer it does not know, even on loopback.
        var org = await _server.DefaultOrgIdAsync();
        var fromConfig = (await _server.PostJsonAsync($"/api/v1/orgs/{org}/api-keys", """{"name": "config"}"""))["key"]!.GetValue<string>();
        var fromEnv = (await _server.PostJsonAsync($"/api/v1/orgs/{org}/api-keys", """{"name": "env"}"""))["key"]!.GetValue<string>();
        var config = Path.Combine(_server.DataDirectory, "config.json");
        await File.WriteAllTextAsync(config, $$"""{"url": "{{_server.BaseUrl}}", "token": "{{fromConfig}}"}""");

        (await HeadersSentAsync(null, new() { ["ENTOURAGE_CONFIG"] = config })).ShouldAllBe(h => h == "Bearer " + fromConfig);
        (await HeadersSentAsync(null, new() { ["ENTOURAGE_CONFIG"] = config, ["ENTOURAGE_TOKEN"] = fromEnv }))
            .ShouldAllBe(h => h == "Bearer " + fromEnv);
        (await HeadersSentAsync(null, new() { ["ENTOURAGE_URL"] = _server.BaseUrl.ToString() })).ShouldAllBe(h => h == null);
        // --url wins over ENTOURAGE_URL, which wins over the config file.
        var down = new Dictionary<string, string?> { ["ENTOURAGE_URL"] = "http://127.0.0.1:1", ["ENTOURAGE_CONFIG"] = config };
        (await new CliDriver(null, env: down).RunAsync("org", "list")).ExitCode.ShouldBe(ExitCodes.Unreachable);
        (await new CliDriver(_server.BaseUrl, env: down).RunAsync("org", "list")).ExitCode.ShouldBe(0);
    }

    [Fact]
    public async Task Team_comes_from_ENTOURAGE_TEAM_or_the_config_file()
    {
        (await _cli.RunAsync("team", "create", "Platform")).ExitCode.ShouldBe(0);
        var fromEnv = new CliDriver(_server.BaseUrl, env: new Dictionary<string, string?> { ["ENTOURAGE_TEAM"] = "platform" });
        (await fromEnv.RunAsync("agent", "list", "--json")).Json().AsArray().Count.ShouldBe(1);

        var config = Path.Combine(_server.DataDirectory, "config.json");
        await File.WriteAllTextAsync(config, $$"""{"url": "{{_server.BaseUrl}}", "team": "platform"}""");
        var fromConfig = new CliDriver(null, env: new Dictionary<string, string?> { ["ENTOURAGE_CONFIG"] = config });
        var shown = await fromConfig.RunAsync("team", "show", "--json");
        shown.ExitCode.ShouldBe(0, shown.ToString());
        shown.Json()["slug"]!.GetValue<string>().ShouldBe("platform");
    }
}

public sealed class TeamAndAgentVerbsSqlite() : TeamAndAgentVerbs(Store.Sqlite);

public sealed class TeamAndAgentVerbsPostgres() : TeamAndAgentVerbs(Store.Postgres);
