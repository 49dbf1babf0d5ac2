using System.Net;
using System.Text.Json.Nodes;
using Entourage.Tests.Infrastructure;
using Shouldly;

namespace Entourage.Tests.Features;

/// <summary>
/// The times a write's answer carries are the stored ones, to the last digit: PostgreSQL keeps microseconds, so an
/// answer built from the writer's own clock at .NET's 100 ns would differ from every later read of the same row (a
/// client comparing them, or using one as a cursor, would see two times for one event).
/// </summary>
public abstract class AnswerTimesContract(Store store) : IAsyncLifetime
{
    private TestServer _s = null!;

    public async ValueTask InitializeAsync() => _s = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task A_created_message_task_and_status_change_answer_with_the_times_a_read_returns()
    {
        var t = await _s.TeamAsync();
        var message = (await _s.PostAsync($"/api/v1/teams/{t.Id}/messages", $$"""{"recipient_id": "{{t.Backend}}", "body": "hello"}"""))
            .ShouldBe(HttpStatusCode.Created).Json;
        var listed = (await _s.GetAsync($"/api/v1/teams/{t.Id}/messages")).ShouldBe(HttpStatusCode.OK).Json;
        var stored = Items(listed).Single(m => m["id"]!.ToJsonString() == message["id"]!.ToJsonString());
        message["created_at"].Str().ShouldBe(stored["created_at"].Str());

        var task = (await _s.PostAsync($"/api/v1/teams/{t.Id}/tasks", """{"title": "Unassigned"}""")).ShouldBe(HttpStatusCode.Created).Json;
        var id = task["id"]!.GetValue<long>();
        var read = (await _s.GetAsync($"/api/v1/tasks/{id}")).ShouldBe(HttpStatusCode.OK).Json;
        task["created_at"].Str().ShouldBe(read["created_at"].Str());
        task["updated_at"].Str().ShouldBe(read["updated_at"].Str());

        var cancelled = (await _s.StatusAsync(id, "cancelled")).ShouldBe(HttpStatusCode.OK).Json;
        read = (await _s.GetAsync($"/api/v1/tasks/{id}")).ShouldBe(HttpStatusCode.OK).Json;
        cancelled["updated_at"].Str().ShouldBe(read["updated_at"].Str());
        cancelled["completed_at"].Str().ShouldBe(read["completed_at"].Str());
    }

    /// <summary>A list answer's items, whether the list is bare or wrapped in an object with an array.</summary>
    private static IEnumerable<JsonNode> Items(JsonNode list) =>
        (list as JsonArray ?? list.AsObject().Select(p => p.Value).OfType<JsonArray>().First()).Select(n => n!);
}

public sealed class AnswerTimesContractSqlite() : AnswerTimesContract(Store.Sqlite);

public sealed class AnswerTimesContractPostgres() : AnswerTimesContract(Store.Postgres);
