using System.Net;
using Entourage.Client.Contracts;
using Entourage.Server.Features;
using Entourage.Server.Features.Tasks;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Tests.Review;

/// <summary>Plan approval (require_plan_approval) and parent tasks completing with their children, per store.</summary>
public abstract class PlansContract(Store store) : IAsyncLifetime
{
    private ReviewFixture _f = null!;

    public async ValueTask InitializeAsync() => _f = await ReviewFixture.StartAsync(store);

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    /// <summary>The manager creating tasks, as its create_tasks_batch tool does.</summary>
    private async Task<List<long>> ManagerCreatesAsync(long? parent, params string[] titles)
    {
        await using var scope = _f.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Entourage.Server.Storage.AppDbContext>();
        var manager = await db.Agents.FirstAsync(a => a.Id == _f.ManagerId);
        var items = titles.Select((t, i) => new BatchTaskItem(t, AssigneeId: _f.EngineerId.ToString(), DependsOnIndices: i == 0 ? null : [i - 1], ParentId: parent)).ToList();
        var created = await CreateTasksBatch.ExecuteAsync(db, _f.TeamId, new CreateTasksBatchRequest(items), Actor.ForAgent(manager), TimeProvider.System, CancellationToken.None);
        return created.Tasks.Select(t => t.Id).ToList();
    }

    private Task<int> EngineerTurnsAsync() =>
        _f.InDbAsync(db => db.DispatchRequests.CountAsync(r => r.AgentId == _f.EngineerId && r.Reason == DispatchReason.TaskReady));

    [Fact]
    public async Task No_engineer_turn_before_approval_and_approval_releases_the_ready_task()
    {
        var settings = await _f.Server.Http.PatchAsync($"/api/v1/settings/teams/{_f.TeamId}",
            new StringContent("""{"require_plan_approval": true}""", System.Text.Encoding.UTF8, "application/json"));
        settings.StatusCode.ShouldBe(HttpStatusCode.OK);
        var ids = await ManagerCreatesAsync(null, "Schema", "API");

        (await _f.TaskAsync(ids[0]))["status"]!.GetValue<string>().ShouldBe("proposed");
        (await EngineerTurnsAsync()).ShouldBe(0);
        var plans = (await _f.Server.GetJsonAsync($"/api/v1/teams/{_f.TeamId}/plans?state=proposed")).AsArray();
        plans.Count.ShouldBe(1);
        plans[0]!["tasks"]!.AsArray().Count.ShouldBe(2);
        plans[0]!["tasks"]![1]!["depends_on"]!.AsArray().Select(n => n!.GetValue<long>()).ShouldBe([ids[0]]);
        // A proposed task cannot be claimed.
        (await _f.Server.Http.PostAsync($"/api/v1/tasks/{ids[0]}/status", new StringContent("""{"status": "in_progress"}""", System.Text.Encoding.UTF8, "application/json")))
            .StatusCode.ShouldBe(HttpStatusCode.Conflict);
        // People may edit the proposal before approving it.
        await _f.Server.Http.PatchAsync($"/api/v1/tasks/{ids[1]}", new StringContent("""{"title": "API endpoints"}""", System.Text.Encoding.UTF8, "application/json"));

        var approved = await _f.Server.PostJsonAsync($"/api/v1/plans/{plans[0]!["id"]}/approve", """{"approved_by": "alice"}""");
        approved["state"]!.GetValue<string>().ShouldBe("approved");
        // Released: todo, or already claimed by the engineer's turn.
        (await _f.TaskAsync(ids[0]))["status"]!.GetValue<string>().ShouldBeOneOf("todo", "in_progress");
        (await _f.TaskAsync(ids[1]))["title"]!.GetValue<string>().ShouldBe("API endpoints");
        // Exactly the ready task (no unfinished dependency) gets a turn.
        (await EngineerTurnsAsync()).ShouldBe(1);
        (await _f.InDbAsync(db => db.DispatchRequests.CountAsync(r => r.TaskId == ids[1]))).ShouldBe(0);
    }

    [Fact]
    public async Task A_rejection_cancels_the_plan_and_reaches_the_manager_with_the_feedback()
    {
        await _f.SetTeamAsync(t => t.RequirePlanApproval = true);
        var ids = await ManagerCreatesAsync(null, "Rewrite everything");
        var plan = (await _f.Server.GetJsonAsync($"/api/v1/teams/{_f.TeamId}/plans")).AsArray()[0]!;

        var missing = await _f.Server.Http.PostAsync($"/api/v1/plans/{plan["id"]}/reject", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        missing.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await missing.Content.ReadAsStringAsync()).ShouldContain("feedback");

        await _f.Server.PostJsonAsync($"/api/v1/plans/{plan["id"]}/reject", """{"feedback": "Too big: split it into schema, API and UI.", "rejected_by": "bob"}""");
        (await _f.TaskAsync(ids[0]))["status"]!.GetValue<string>().ShouldBe("cancelled");
        (await EngineerTurnsAsync()).ShouldBe(0);
        var toManager = await _f.MessagesToAsync(_f.ManagerId);
        toManager.Count.ShouldBe(1);
        toManager[0].ShouldContain("Too big: split it into schema, API and UI.");
        toManager[0].ShouldContain("Rewrite everything");
        (await _f.InDbAsync(db => db.DispatchRequests.CountAsync(r => r.AgentId == _f.ManagerId && r.Reason == DispatchReason.Message)))
            .ShouldBe(1);
        await _f.WaitForTurnWithMessageAsync(_f.ManagerId, await _f.LastMessageIdToAsync(_f.ManagerId));
        // Decided plans stay decided.
        (await _f.Server.Http.PostAsync($"/api/v1/plans/{plan["id"]}/approve", new StringContent("{}", System.Text.Encoding.UTF8, "application/json")))
            .StatusCode.ShouldBe(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_parent_is_done_when_its_last_child_is_and_the_manager_gets_a_turn_to_summarise()
    {
        var parent = (await _f.Server.PostJsonAsync($"/api/v1/teams/{_f.TeamId}/tasks", """{"title": "Notification system"}"""))["id"]!.GetValue<long>();
        var children = await ManagerCreatesAsync(parent, "Schema", "API");
        foreach (var c in children)
        {
            await _f.Server.PostJsonAsync($"/api/v1/tasks/{c}/status", """{"status": "in_progress"}""");
            (await _f.TaskAsync(parent))["status"]!.GetValue<string>().ShouldNotBe("done");
            await _f.Server.PostJsonAsync($"/api/v1/tasks/{c}/status", """{"status": "done"}""");
        }
        (await _f.TaskAsync(parent))["status"]!.GetValue<string>().ShouldBe("done");
        var summary = (await _f.MessagesToAsync(_f.ManagerId)).ShouldHaveSingleItem();
        summary.ShouldContain("Summarise");
        summary.ShouldContain($"#{children[1]} API: done");
    }
}

public sealed class PlansContractSqlite() : PlansContract(Store.Sqlite);

public sealed class PlansContractPostgres() : PlansContract(Store.Postgres);
