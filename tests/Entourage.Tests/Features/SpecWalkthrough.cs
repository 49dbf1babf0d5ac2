using System.Net;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;

namespace Entourage.Tests.Features;

/// <summary>
/// Every request of ../shared/spec/multi-agent-team.txt, in order, over real HTTP, with the bodies exactly as the
/// spec writes them (ids as strings: "depends_on": ["{task_2_id}"]) and placeholders filled from earlier responses.
/// </summary>
public abstract class SpecWalkthrough(Store store) : IAsyncLifetime
{
    private TestServer _s = null!;

    public async ValueTask InitializeAsync() => _s = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task The_multi_agent_team_guide_works_as_written()
    {
        var org_id = (await _s.GetAsync("/api/v1/orgs")).ShouldBe(HttpStatusCode.OK).Json[0]!["id"].Str();

        // 1. Create the team (manager is auto-created)
        var team = (await _s.PostAsync($"/api/v1/orgs/{org_id}/teams", """{"name": "Platform", "slug": "platform"}""")).ShouldBe(HttpStatusCode.Created).Json;
        var team_id = team["id"].Str();
        var manager_id = team["manager"]!["id"].Str();
        team["manager"]!["role"].Str().ShouldBe("manager");

        // 2. Add engineers
        var backend = (await _s.PostAsync($"/api/v1/teams/{team_id}/agents", """
            {
                "name": "eng-backend",
                "role": "engineer",
                "model": "claude-sonnet-4-20250514",
                "config": {"description": "Backend specialist — Python, APIs, databases"}
              }
            """)).ShouldBe(HttpStatusCode.Created).Json;
        var eng_backend_id = backend["id"].Str();
        backend["config"]!["description"].Str().ShouldBe("Backend specialist — Python, APIs, databases");
        var eng_frontend_id = (await _s.PostAsync($"/api/v1/teams/{team_id}/agents", """
            {
                "name": "eng-frontend",
                "role": "engineer",
                "model": "claude-sonnet-4-20250514",
                "config": {"description": "Frontend specialist — React, TypeScript, UI"}
              }
            """)).ShouldBe(HttpStatusCode.Created).Json["id"].Str();

        // Step 1: a high-level feature, then the sub-tasks.
        var feature = (await _s.PostAsync($"/api/v1/teams/{team_id}/tasks", """
            {
                "title": "Add user profile page",
                "description": "Users should be able to view and edit their profile (name, email, avatar). Needs API endpoint + React page.",
                "priority": "high",
                "task_type": "feature"
              }
            """)).ShouldBe(HttpStatusCode.Created).Json;
        var task_1_id = feature["id"]!.GetValue<long>();
        feature["status"].Str().ShouldBe("todo");
        feature["priority"].Str().ShouldBe("high");
        // A top-level task without an assignee goes to the manager to decompose.
        (await _s.DispatchAsync()).ShouldContain((Guid.Parse(manager_id), DispatchReason.TaskReady, (long?)task_1_id, task_1_id.ToString()));

        var task_2_id = (await _s.PostAsync($"/api/v1/teams/{team_id}/tasks", """
            {
                "title": "Create GET/PATCH /api/v1/users/me endpoint",
                "description": "Return current user profile. PATCH to update name and avatar_url.",
                "priority": "high",
                "task_type": "feature"
              }
            """)).ShouldBe(HttpStatusCode.Created).Json["id"]!.GetValue<long>();
        var task3 = (await _s.PostAsync($"/api/v1/teams/{team_id}/tasks", """
            {
                "title": "Build profile page component in React",
                "description": "Form with name, email (read-only), avatar. Calls PATCH /api/v1/users/me on save.",
                "priority": "high",
                "task_type": "feature",
                "depends_on": ["{task_2_id}"]
              }
            """.Replace("{task_2_id}", task_2_id.ToString()))).ShouldBe(HttpStatusCode.Created).Json;
        var task_3_id = task3["id"]!.GetValue<long>();
        task3["depends_on"].Ids().ShouldBe([task_2_id]);
        task3["blocked_by"].Ids().ShouldBe([task_2_id]);
        task3["ready"]!.GetValue<bool>().ShouldBeFalse();

        // Step 2: the DAG refuses to start task 3 before task 2 is done.
        var refused = (await _s.StatusAsync(task_3_id, "in_progress")).ShouldBe(HttpStatusCode.Conflict);
        refused.ContentType.ShouldBe("application/problem+json");
        refused.Json["detail"].Str().ShouldBe($"task {task_3_id} is blocked by task {task_2_id} (todo); wait for it or pick another");
        (await _s.GetAsync($"/api/v1/tasks/{task_3_id}")).Json["status"].Str().ShouldBe("todo");

        // Step 4: the manager messages eng-backend; that wakes eng-backend.
        var message = (await _s.PostAsync($"/api/v1/teams/{team_id}/messages", """
            {
                "sender_id": "{manager_id}",
                "recipient_id": "{eng-backend_id}",
                "body": "For the profile endpoint, use the same auth pattern as /auth/me. Return 404 if user not found."
              }
            """.Replace("{manager_id}", manager_id).Replace("{eng-backend_id}", eng_backend_id))).ShouldBe(HttpStatusCode.Created).Json;
        var messageId = message["id"]!.GetValue<long>();
        (await _s.DispatchAsync()).ShouldContain((Guid.Parse(eng_backend_id), DispatchReason.Message, (long?)null, messageId.ToString()));
        var inbox = (await _s.GetAsync($"/api/v1/agents/{eng_backend_id}/inbox")).ShouldBe(HttpStatusCode.OK).Json;
        inbox["unread_count"]!.GetValue<int>().ShouldBe(1);
        inbox["messages"]![0]!["sender_name"].Str().ShouldBe("manager");

        // list_team_agents
        var agents = (await _s.GetAsync($"/api/v1/teams/{team_id}/agents")).ShouldBe(HttpStatusCode.OK).Json.AsArray();
        agents.Select(a => a!["name"].Str()).ShouldBe(["manager", "eng-backend", "eng-frontend"], ignoreOrder: true);
        foreach (var a in agents)
        {
            new[] { "idle", "busy", "offline" }.ShouldContain(a!["status"].Str());
            a["role"].Str().ShouldBeOneOf("manager", "engineer");
            a["active_task_count"]!.GetValue<int>().ShouldBeGreaterThanOrEqualTo(0);
            a["adapter"].Str().ShouldBe("claude-code");
            a["model"].Str().ShouldBe("claude-sonnet-4-20250514");
            a["config"].ShouldNotBeNull();
        }

        // create_tasks_batch, with the spec's placeholders filled by the tasks created above.
        var batch = (await _s.PostAsync($"/api/v1/teams/{team_id}/tasks/batch", """
            {
                "tasks": [
                  {
                    "title": "Create database migration for notifications table",
                    "priority": "high",
                    "task_type": "feature",
                    "assignee_id": "{eng-backend_id}"
                  },
                  {
                    "title": "Build notification API endpoints",
                    "priority": "high",
                    "task_type": "feature",
                    "assignee_id": "{eng-backend_id}",
                    "depends_on": ["{task_1_id}"]
                  },
                  {
                    "title": "Build notification bell UI component",
                    "priority": "medium",
                    "task_type": "feature",
                    "assignee_id": "{eng-frontend_id}",
                    "depends_on": ["{task_2_id}"]
                  }
                ]
              }
            """.Replace("{eng-backend_id}", eng_backend_id).Replace("{eng-frontend_id}", eng_frontend_id)
               .Replace("{task_1_id}", task_1_id.ToString()).Replace("{task_2_id}", task_2_id.ToString()))).ShouldBe(HttpStatusCode.Created).Json["tasks"]!.AsArray();
        batch.Count.ShouldBe(3);
        batch[0]!["assignee_id"].Str().ShouldBe(eng_backend_id);
        batch[0]!["ready"]!.GetValue<bool>().ShouldBeTrue();
        batch[1]!["depends_on"].Ids().ShouldBe([task_1_id]);
        batch[2]!["depends_on"].Ids().ShouldBe([task_2_id]);
        batch[2]!["priority"].Str().ShouldBe("medium");
        var first = batch[0]!["id"]!.GetValue<long>();
        (await _s.DispatchAsync()).ShouldContain((Guid.Parse(eng_backend_id), DispatchReason.TaskReady, (long?)first, first.ToString()));

        // wait_for_task_completion: blocks until all three are done.
        var wait = _s.PostAsync("/api/v1/tasks/wait", """
            {
                "task_ids": ["{task_1_id}", "{task_2_id}", "{task_3_id}"],
                "timeout_seconds": 3600
              }
            """.Replace("{task_1_id}", task_1_id.ToString()).Replace("{task_2_id}", task_2_id.ToString()).Replace("{task_3_id}", task_3_id.ToString()));
        await _s.FinishAsync(task_2_id);
        (await _s.GetAsync($"/api/v1/tasks/{task_3_id}")).Json["ready"]!.GetValue<bool>().ShouldBeFalse(); // unassigned
        await _s.FinishAsync(task_3_id);
        wait.IsCompleted.ShouldBeFalse();
        await _s.FinishAsync(task_1_id);
        var done = (await wait).ShouldBe(HttpStatusCode.OK).Json;
        done["completed"]!.GetValue<bool>().ShouldBeTrue();
        done["timed_out"]!.GetValue<bool>().ShouldBeFalse();
        done["tasks"]!.AsArray().Select(t => (t!["id"]!.GetValue<long>(), t["status"].Str())).ShouldBe([(task_1_id, "done"), (task_2_id, "done"), (task_3_id, "done")]);

        // get_task_events: the full timeline of task 3.
        var events = (await _s.GetAsync($"/api/v1/tasks/{task_3_id}/events")).ShouldBe(HttpStatusCode.OK).Json.AsArray();
        events.Select(e => e!["kind"].Str()).ShouldBe(["created", "dependency_added", "unblocked", "status_changed", "status_changed"]);
        events.Where(e => e!["kind"].Str() == "status_changed").Select(e => $"{e!["from_status"].Str()}>{e["to_status"].Str()}")
            .ShouldBe(["todo>in_progress", "in_progress>done"]);
        events.ShouldAllBe(e => e!["actor"]!["type"]!.GetValue<string>() == "human" && e["created_at"] != null);

        // Set budget limits per team
        var settings = (await _s.PatchAsync($"/api/v1/settings/teams/{team_id}", """{"daily_cost_limit_usd": 10.00, "max_concurrent_agents": 3}""")).ShouldBe(HttpStatusCode.OK).Json;
        settings["daily_cost_limit_usd"]!.GetValue<decimal>().ShouldBe(10.00m);
        settings["max_concurrent_agents"]!.GetValue<int>().ShouldBe(3);
        (await _s.GetAsync($"/api/v1/settings/teams/{team_id}")).Json["max_concurrent_agents"]!.GetValue<int>().ShouldBe(3);
    }
}

public sealed class SpecWalkthroughSqlite() : SpecWalkthrough(Store.Sqlite);

public sealed class SpecWalkthroughPostgres() : SpecWalkthrough(Store.Postgres);
