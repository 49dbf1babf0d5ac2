using System.Net;
using System.Text.Json;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;

namespace Entourage.Dashboard.Tests.Stream;

/// <summary>GET /api/v1/events/stream: the change feed as server-sent events, per store.</summary>
public abstract class EventStreamContract(Store store) : IAsyncLifetime
{
    private TestServer _server = default!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private async Task<Guid> TeamAsync(string name)
    {
        var org = await _server.DefaultOrgIdAsync();
        return (await _server.PostJsonAsync($"/api/v1/orgs/{org}/teams", $$"""{"name": "{{name}}"}"""))["id"]!.GetValue<Guid>();
    }

    [Fact]
    public async Task Streams_only_the_chosen_teams_changes_after_a_ready_event()
    {
        var a = await TeamAsync("Alpha");
        var b = await TeamAsync("Beta");
        using var response = await _server.Http.GetAsync($"/api/v1/events/stream?team_id={a}", HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        await using var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
        using var reader = new StreamReader(body);

        var ready = await NextAsync(reader);
        ready.Kind.ShouldBe("ready");
        ready.TeamId.ShouldBe(a);

        // A change in Beta first, then one in Alpha: only Alpha's arrives.
        await _server.PostJsonAsync($"/api/v1/teams/{b}/agents", """{"name": "eng-b"}""");
        var agent = await _server.PostJsonAsync($"/api/v1/teams/{a}/agents", """{"name": "eng-a"}""");
        var change = await NextAsync(reader);
        change.Kind.ShouldBe("agent");
        change.Op.ShouldBe("added");
        change.TeamId.ShouldBe(a);
        change.Id.ShouldBe(agent["id"]!.GetValue<Guid>().ToString());
        change.Seq.ShouldBeGreaterThan(ready.Seq);
    }

    [Fact]
    public async Task Without_a_team_every_change_arrives_with_its_sse_name_and_id()
    {
        using var response = await _server.Http.GetAsync("/api/v1/events/stream", HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
        using var reader = new StreamReader(body);
        (await NextAsync(reader)).Kind.ShouldBe("ready");
        var team = await TeamAsync("Gamma");
        while (true)
        {
            var (name, id, evt) = await NextRawAsync(reader);
            name.ShouldBe(evt.Kind);
            id.ShouldBe(evt.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
            // Everything arrives, the server's own changes too (on PostgreSQL its node's heartbeat row): the team's
            // creation is the first change of that team.
            if (evt.TeamId != team) continue;
            new[] { "team", "agent" }.ShouldContain(evt.Kind);
            break;
        }
    }

    [Fact]
    public async Task A_client_reconnecting_with_last_event_id_gets_what_it_missed_then_ready()
    {
        var ct = TestContext.Current.CancellationToken;
        long seen;
        using (var first = await _server.Http.GetAsync("/api/v1/events/stream", HttpCompletionOption.ResponseHeadersRead, ct))
        await using (var body = await first.Content.ReadAsStreamAsync(ct))
        using (var reader = new StreamReader(body))
            seen = (await NextAsync(reader)).Seq;

        // Disconnected: this team's creation happens while no stream is open.
        var team = await TeamAsync("Delta");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/events/stream?team_id={team}");
        request.Headers.Add("Last-Event-ID", seen.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var again = await _server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await using var body2 = await again.Content.ReadAsStreamAsync(ct);
        using var reader2 = new StreamReader(body2);
        var replayed = new List<ChangeEventDto>();
        for (var e = await NextAsync(reader2); e.Kind != "ready"; e = await NextAsync(reader2)) replayed.Add(e);
        replayed.ShouldContain(e => e.Kind == "team" && e.Op == "added" && e.Id == team.ToString());
        replayed.ShouldAllBe(e => e.TeamId == team && e.Seq > seen);
        replayed.Select(e => e.Seq).ShouldBeInOrder();
    }

    [Theory]
    [InlineData("1")]
    [InlineData("not-a-number")]
    public async Task An_id_the_server_cannot_replay_from_gets_a_reset_then_ready(string lastEventId)
    {
        var ct = TestContext.Current.CancellationToken;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events/stream");
        request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        using var response = await _server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(body);
        (await NextAsync(reader)).Kind.ShouldBe("reset");
        (await NextAsync(reader)).Kind.ShouldBe("ready");
    }

    [Theory]
    [InlineData("no-such-team", 404)]
    [InlineData("%20", 422)]
    public async Task A_bad_team_is_a_problem_not_an_empty_stream(string team, int status)
    {
        using var response = await _server.Http.GetAsync($"/api/v1/events/stream?team_id={team}", TestContext.Current.CancellationToken);
        ((int)response.StatusCode).ShouldBe(status);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).ShouldContain("team");
    }

    private static async Task<ChangeEventDto> NextAsync(StreamReader reader) => (await NextRawAsync(reader)).Event;

    /// <summary>Reads one SSE message (event/id/data lines up to a blank line), skipping keep-alive pings.</summary>
    private static async Task<(string? Name, string? Id, ChangeEventDto Event)> NextRawAsync(StreamReader reader)
    {
        while (true)
        {
            string? name = null, id = null, data = null;
            while (await reader.ReadLineAsync(TestContext.Current.CancellationToken) is { } line && line.Length > 0)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
                else if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
            }
            if (data is null) throw new EndOfStreamException("The event stream ended.");
            var evt = JsonSerializer.Deserialize<ChangeEventDto>(data, TestServer.Json)!;
            if (evt.Kind != "ping") return (name, id, evt);
        }
    }
}

public sealed class EventStreamSqlite() : EventStreamContract(Store.Sqlite);

public sealed class EventStreamPostgres() : EventStreamContract(Store.Postgres);
