using System.Net;
using System.Text.Json.Nodes;
using Entourage.Tests.Infrastructure;
using Shouldly;

namespace Entourage.Tests.Features;

/// <summary>
/// A status change reads its task with a plain command and builds its answer from that row (not from EF's query):
/// the answer must be exactly what a fresh GET returns, every field, for a task using all of them.
/// </summary>
public abstract class StatusAnswerContract(Store store) : IAsyncLifetime
{
    private TestServer _s = null!;

    public async ValueTask InitializeAsync() => _s = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task The_answer_of_each_transition_equals_a_fresh_read()
    {
        var t = await _s.TeamAsync();
        var parent = await _s.TaskAsync(t.Id, """{"title": "Feature"}""");
        var dep = await _s.TaskAsync(t.Id, $$"""{"title": "Dep", "assignee_id": "{{t.Backend}}"}""");
        var id = await _s.TaskAsync(t.Id, $$"""
            {"title": "Build it", "description": "All the fields, ünïcödé", "priority": "high", "task_type": "bug",
             "assignee_id": "{{t.Backend}}", "depends_on": [{{dep}}], "parent_id": {{parent}}}
            """);
        await _s.TaskAsync(t.Id, $$"""{"title": "After", "depends_on": [{{id}}]}""");
        await _s.FinishAsync(dep);

        // No transition back to todo: that would wake the assignee, whose turn could change the task between the two reads.
        foreach (var to in new[] { "in_progress", "in_review", "in_progress", "done" })
            await SameAsFreshReadAsync(id, to, null);
        var failing = await _s.TaskAsync(t.Id, $$"""{"title": "Doomed", "assignee_id": "{{t.Frontend}}", "parent_id": {{parent}}}""");
        await SameAsFreshReadAsync(failing, "in_progress", null);
        await SameAsFreshReadAsync(failing, "failed", "it broke");
    }

    private async Task SameAsFreshReadAsync(long id, string to, string? reason)
    {
        var answer = (await _s.StatusAsync(id, to, reason)).ShouldBe(HttpStatusCode.OK).Json;
        var read = (await _s.GetAsync($"/api/v1/tasks/{id}")).ShouldBe(HttpStatusCode.OK).Json;
        // Exactly, times too: the server's clock is read to the microsecond PostgreSQL keeps (AnswerTimesContract).
        answer.ToJsonString().ShouldBe(read!.ToJsonString(), $"task {id} after {to}");
        answer["status"].Str().ShouldBe(to);
    }
}

public sealed class StatusAnswerContractSqlite() : StatusAnswerContract(Store.Sqlite);

public sealed class StatusAnswerContractPostgres() : StatusAnswerContract(Store.Postgres);
