using System.Net;
using System.Text;
using Entourage.Tests.Infrastructure;

namespace Entourage.Tests.Features;

/// <summary>
/// What error answers say: the field by its snake_case JSON path and what it takes, never a .NET type or framework
/// wording, and a detail on the answers the framework gives by itself (405, 413, 415). The wording does not depend
/// on the store, so one store is enough.
/// </summary>
public sealed class ErrorWordingTests : IAsyncLifetime
{
    private TestServer _s = null!;

    public async ValueTask InitializeAsync() => _s = await TestServer.StartAsync(Store.Sqlite);

    public async ValueTask DisposeAsync() => await _s.DisposeAsync();

    // path, body, the field named in errors, what its message must say
    public static TheoryData<string, string, string, string> WrongTypes => new()
    {
        { "/api/v1/orgs/{org}/teams", """{"name": 5}""", "name", "Must be a string." },
        { "/api/v1/teams/{team}/tasks/batch", """{"tasks": [{"title": "a"}, {"title": "b", "priority": 1}]}""", "tasks[1].priority", "Must be one of: low, medium, high, critical (a string)." },
        { "/api/v1/teams/{team}/tasks", """{"title": "x", "task_type": true}""", "task_type", "Must be one of: feature, bug, chore, test, docs, refactor (a string)." },
        { "/api/v1/teams/{team}/tasks", """{"title": "x", "depends_on": ["abc"]}""", "depends_on[0]", "Must be a whole number" },
        { "/api/v1/teams/{team}/agents", """{"name": "x", "config": "str"}""", "config", "Must be a JSON object" },
        { "/api/v1/teams/{team}/agents", """{"name": "x", "role": "boss"}""", "role", "Must be one of: manager, engineer, reviewer (a string)." },
        { "/api/v1/tasks/{task}/review", """{"decision": "bogus"}""", "decision", "Must be one of: approve, request_changes (a string)." },
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public async Task A_wrong_type_names_the_field_and_what_it_takes(string path, string body, string field, string says)
    {
        var t = await _s.TeamAsync();
        var task = await _s.TaskAsync(t.Id, """{"title": "A"}""");
        path = path.Replace("{org}", (await _s.DefaultOrgIdAsync()).ToString()).Replace("{team}", t.Id.ToString()).Replace("{task}", task.ToString());

        var r = (await _s.PostAsync(path, body)).ShouldBe(HttpStatusCode.BadRequest);
        r.ContentType.ShouldBe("application/problem+json");
        r.Json["errors"]![field]![0].Str().ShouldStartWith(says);
        r.Json["detail"].Str().ShouldBe($"Field '{field}' is invalid: {r.Json["errors"]![field]![0].Str()}");
        r.Text.ShouldNotContain("Request", Case.Sensitive);
        r.Text.ShouldNotContain("converted");
    }

    [Fact]
    public async Task A_cost_limit_too_big_for_a_number_gets_the_range_like_one_over_the_limit()
    {
        var t = await _s.TeamAsync();
        foreach (var value in new[] { "1e308", "1e12" })
        {
            var r = (await _s.PatchAsync($"/api/v1/settings/teams/{t.Id}", $$"""{"daily_cost_limit_usd": {{value}}}""")).ShouldBe(HttpStatusCode.UnprocessableEntity);
            r.Json["errors"]!["daily_cost_limit_usd"]![0].Str().ShouldBe("Give US dollars per UTC day from 0 to 1000000, or null for no limit.");
        }
        var wrongType = (await _s.PatchAsync($"/api/v1/settings/teams/{t.Id}", """{"require_review": "yes"}""")).ShouldBe(HttpStatusCode.BadRequest);
        wrongType.Json["errors"]!["require_review"]![0].Str().ShouldBe("Must be true or false.");
    }

    [Fact]
    public async Task Answers_made_before_the_handler_say_what_to_send()
    {
        var t = await _s.TeamAsync();

        using var empty = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/teams/{t.Id}/tasks") { Content = new StringContent("", Encoding.UTF8, "application/json") };
        var noBody = await ReadAsync(await _s.Http.SendAsync(empty));
        noBody.Status.ShouldBe(400);
        noBody.Detail.ShouldStartWith("The request needs a JSON body with Content-Type: application/json");

        var limit = (await _s.GetAsync($"/api/v1/teams/{t.Id}/tasks?limit=abc")).ShouldBe(HttpStatusCode.BadRequest);
        limit.Json["detail"].Str().ShouldBe("'limit' in the query string must be a whole number from 1 to 1000; got \"abc\".");
        limit.Json["errors"]!["limit"]![0].Str().ShouldStartWith("Must be a whole number from 1 to 1000");
        (await _s.GetAsync("/api/v1/tasks/abc")).ShouldBe(HttpStatusCode.BadRequest).Json["detail"].Str()
            .ShouldBe("'task_id' in the URL path must be a whole number; got \"abc\".");

        var syntax = (await _s.PostAsync($"/api/v1/teams/{t.Id}/tasks", """{"title": """)).ShouldBe(HttpStatusCode.BadRequest);
        syntax.Json["detail"].Str().ShouldStartWith("The body is not valid JSON:");
        syntax.Json["errors"].ShouldBeNull();

        var noType = await ReadAsync(await _s.Http.PostAsync($"/api/v1/teams/{t.Id}/tasks", new ByteArrayContent("""{"title": "x"}"""u8.ToArray())));
        noType.Status.ShouldBe(415);
        noType.Detail.ShouldBe("Send the body as JSON with Content-Type: application/json.");

        var method = await ReadAsync(await _s.Http.DeleteAsync($"/api/v1/settings/teams/{t.Id}"));
        method.Status.ShouldBe(405);
        method.Detail.ShouldContain("Allowed methods: GET");
        method.Detail.ShouldContain("PATCH");

        using var huge = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/teams/{t.Id}/tasks")
        {
            Content = new StringContent($$"""{"title": "x", "description": "{{new string('d', 2_000_000)}}"}""", Encoding.UTF8, "application/json"),
        };
        huge.Headers.ExpectContinue = true; // see BadInputTable: refused by length before the body is streamed
        var tooLarge = await ReadAsync(await _s.Http.SendAsync(huge));
        tooLarge.Status.ShouldBe(413);
        tooLarge.Detail.ShouldContain("1 MiB");
    }

    private static async Task<(int Status, string Detail)> ReadAsync(HttpResponseMessage response)
    {
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return ((int)response.StatusCode, body["detail"]?.GetValue<string>() ?? "(no detail)");
    }
}
