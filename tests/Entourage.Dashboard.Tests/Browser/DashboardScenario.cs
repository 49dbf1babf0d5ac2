using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Entourage.Dashboard.Tests.Browser;

/// <summary>
/// The dashboard in a real headless Chromium against a real server (per store): forms create the team, the
/// engineers and the feature; REST calls (as the agents would make them) move tasks, and the open page follows live.
/// </summary>
[Collection(BrowserCollection.Name)]
public abstract class DashboardScenario(BrowserFixture browser, Store store) : IAsyncLifetime
{
    protected TestServer Server { get; private set; } = default!;
    private string Shot(string name) => $"{store.ToString().ToLowerInvariant()}-{name}";

    public async ValueTask InitializeAsync() => Server = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();

    [Fact]
    public async Task Team_engineers_and_feature_are_created_in_the_ui_and_the_dag_follows_the_agents_live()
    {
        var page = await DashboardPage.OpenAsync(browser, Server.BaseUrl);
        await page.GoAsync("/");
        await Expect(page.GetByText("No teams yet")).ToBeVisibleAsync();

        // Create the team through the form; the manager comes with it.
        await page.GetByRole(AriaRole.Link, new() { Name = "New team" }).First.ClickAsync();
        await page.WaitInteractiveAsync();
        await page.FillFieldAsync("team-name", "Platform");
        await page.GetByTestId("create-team").ClickAsync();
        try
        {
            await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/teams/[0-9a-f-]{36}$"));
        }
        catch (TimeoutException e)
        {
            // Seen twice in CI, never locally: keep what the page showed (the test's server is gone afterwards).
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, Shot("failed-create-team") + ".png"), FullPage = true });
            var text = await page.InnerTextAsync("body");
            throw new TimeoutException($"Creating the team did not open its page: still at {page.Url}; the page shows: {text[..Math.Min(text.Length, 2000)]}", e);
        }
        var teamId = Guid.Parse(page.Url.Split('/').Last());
        var agents = page.GetByTestId("agents");
        await Expect(agents).ToContainTextAsync("manager");

        // Two engineers, as in the spec.
        foreach (var (name, description) in new[] { ("eng-backend", "Backend specialist — Python, APIs, databases"), ("eng-frontend", "Frontend specialist — React, TypeScript, UI") })
        {
            await page.FillFieldAsync("agent-name", name);
            await page.FillFieldAsync("agent-description", description);
            await page.GetByTestId("add-agent").ClickAsync();
            await Expect(page.GetByTestId("agent-added")).ToContainTextAsync($"Added {name}");
            await Expect(agents).ToContainTextAsync(name);
        }
        await Expect(agents).ToContainTextAsync("Frontend specialist");
        var team = await Server.GetJsonAsync($"/api/v1/teams/{teamId}/agents");
        team.AsArray().Select(a => a!["name"]!.GetValue<string>()).ShouldBe(["manager", "eng-backend", "eng-frontend"], ignoreOrder: true);

        // A duplicate name is refused with the API's own message, and nothing is added.
        await page.FillFieldAsync("agent-name", "eng-backend");
        await page.GetByTestId("add-agent").ClickAsync();
        await Expect(page.GetByTestId("form-error")).ToContainTextAsync("already has an agent named 'eng-backend'");
        (await Server.GetJsonAsync($"/api/v1/teams/{teamId}/agents")).AsArray().Count.ShouldBe(3);

        // Submit a feature to the manager.
        await page.FillFieldAsync("feature-title", "Add user profile page");
        await page.FillFieldAsync("feature-description", "Users view and edit their profile. Needs API endpoint + React page.");
        await page.GetByTestId("submit-feature").ClickAsync();
        await Expect(page.GetByTestId("feature-created")).ToContainTextAsync("given to manager");
        var feature = (await Server.GetJsonAsync($"/api/v1/teams/{teamId}/tasks")).AsArray().Single()!;
        var featureId = feature["id"]!.GetValue<long>();
        feature["title"]!.GetValue<string>().ShouldBe("Add user profile page");
        feature["assignee_name"]!.GetValue<string>().ShouldBe("manager");
        await page.ShotAsync(Shot("team-desktop"));

        // The manager decomposes it (the REST call its create_tasks_batch tool makes).
        var batch = await Server.PostJsonAsync($"/api/v1/teams/{teamId}/tasks/batch", $$"""
            {"tasks": [
              {"title": "Create GET/PATCH /api/v1/users/me endpoint", "priority": "high", "assignee_id": "eng-backend", "parent_id": {{featureId}}},
              {"title": "Build profile page component in React", "priority": "high", "assignee_id": "eng-frontend", "parent_id": {{featureId}}, "depends_on_indices": [0]},
              {"title": "Document the profile API", "priority": "low", "parent_id": {{featureId}}, "depends_on_indices": [0]}
            ]}
            """);
        var ids = batch["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<long>()).ToArray();
        var (api, ui, docs) = (ids[0], ids[1], ids[2]);

        await page.GoAsync($"/teams/{teamId}/dag?feature={featureId}");
        ILocator NodeOf(long id) => page.Locator($"a.dag-node[data-task-id='{id}']");
        await Expect(NodeOf(api)).ToHaveAttributeAsync("data-look", "ready");
        await Expect(NodeOf(ui)).ToHaveAttributeAsync("data-look", "waiting");
        await Expect(NodeOf(docs)).ToHaveAttributeAsync("data-look", "waiting");
        (await page.Locator("path.dag-edge").CountAsync()).ShouldBe(2);

        // The engineers work; the open page follows without a reload.
        await ChangeStatusAsync(api, "in_progress");
        await Expect(NodeOf(api)).ToHaveAttributeAsync("data-look", "running");
        await page.ShotAsync(Shot("dag-running-desktop"));
        await ChangeStatusAsync(api, "in_review");
        await Expect(NodeOf(api)).ToHaveAttributeAsync("data-look", "in review");
        await ChangeStatusAsync(api, "done");
        await Expect(NodeOf(api)).ToHaveAttributeAsync("data-look", "done");
        await Expect(NodeOf(ui)).ToHaveAttributeAsync("data-look", "ready");
        await Expect(NodeOf(docs)).ToHaveAttributeAsync("data-look", "unassigned");
        await ChangeStatusAsync(ui, "in_progress");
        await ChangeStatusAsync(ui, "failed", "tests keep failing");
        await Expect(NodeOf(ui)).ToHaveAttributeAsync("data-look", "failed");
        await Expect(page.GetByTestId("dag-summary")).ToContainTextAsync("1 of 4 done");
        await page.ShotAsync(Shot("dag-desktop"));

        // The board says why work is not moving.
        await page.GoAsync($"/teams/{teamId}/board");
        await Expect(page.Locator($"[data-column=todo] a.task-card[data-task-id='{docs}'] [data-testid=why]")).ToHaveTextAsync("ready, no assignee: the manager assigns it");
        await Expect(page.Locator($"[data-column=failed] a.task-card[data-task-id='{ui}'] [data-testid=why]")).ToHaveTextAsync("tests keep failing");
        await page.ShotAsync(Shot("board-desktop"));

        // Task detail: description, dependencies, and the timeline of what happened.
        await page.Locator($"a.task-card[data-task-id='{ui}']").ClickAsync();
        await page.WaitForURLAsync($"**/tasks/{ui}");
        await Expect(page.GetByTestId("task-state")).ToHaveTextAsync("failed");
        await Expect(page.GetByTestId("timeline")).ToContainTextAsync("status changed");
        await Expect(page.Locator("body")).ToContainTextAsync("Create GET/PATCH /api/v1/users/me endpoint");
        await page.ShotAsync(Shot("task-desktop"));

        // A person steers: retry the failed task from its page; it is ready again at once.
        await page.GetByTestId("retry-task").ClickAsync();
        await Expect(page.GetByTestId("task-state")).ToHaveTextAsync("todo");
        (await Server.GetJsonAsync($"/api/v1/tasks/{ui}"))["ready"]!.GetValue<bool>().ShouldBeTrue();
    }

    private async Task ChangeStatusAsync(long taskId, string status, string? reason = null) =>
        await Server.PostJsonAsync($"/api/v1/tasks/{taskId}/status",
            new JsonObject { ["status"] = status, ["reason"] = reason }.ToJsonString());

    protected async Task<(Guid TeamId, Guid EngineerId, long TaskId)> TeamWithTaskAsync(string name)
    {
        var org = await Server.DefaultOrgIdAsync();
        var team = await Server.PostJsonAsync($"/api/v1/orgs/{org}/teams", $$"""{"name": "{{name}}"}""");
        var teamId = team["id"]!.GetValue<Guid>();
        var eng = await Server.PostJsonAsync($"/api/v1/teams/{teamId}/agents", """{"name": "eng-backend", "role": "engineer"}""");
        var task = await Server.PostJsonAsync($"/api/v1/teams/{teamId}/tasks",
            """{"title": "Create GET/PATCH /api/v1/users/me endpoint", "priority": "high", "assignee_id": "eng-backend"}""");
        return (teamId, eng["id"]!.GetValue<Guid>(), task["id"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_human_request_appears_live_and_is_answered_in_place()
    {
        var (teamId, engineer, taskId) = await TeamWithTaskAsync("Platform");
        var page = await DashboardPage.OpenAsync(browser, Server.BaseUrl);
        await page.GoAsync("/attention");
        await Expect(page.GetByTestId("attention-empty")).ToBeVisibleAsync();

        // The engineer asks (what its ask_human tool does).
        var asked = await Server.PostJsonAsync($"/api/v1/agents/{engineer}/human-requests",
            $$"""{"question": "Return 404 or 403 for another user's profile?", "task_id": {{taskId}}}""");
        var requestId = asked["id"]!.GetValue<long>();
        var card = page.Locator($"[data-request-id='{requestId}']");
        await Expect(card).ToContainTextAsync("Return 404 or 403");
        await Expect(page.GetByTestId("attention-badge").Locator("..")).ToContainTextAsync("1");
        await page.ShotAsync(Shot("attention-desktop"));

        await page.FillFieldAsync("answer-text", "404: do not reveal that the profile exists.");
        await card.GetByTestId("send-answer").ClickAsync();
        await Expect(page.GetByTestId("attention-empty")).ToBeVisibleAsync();

        var answered = await Server.GetJsonAsync($"/api/v1/human-requests/{requestId}");
        answered["status"]!.GetValue<string>().ShouldBe("answered");
        answered["answer"]!.GetValue<string>().ShouldBe("404: do not reveal that the profile exists.");
        answered["answered_by"]!.GetValue<string>().ShouldBe("dashboard");
        // The answer reaches the engineer's inbox, and exactly one turn is queued to wake it.
        (await Server.GetJsonAsync($"/api/v1/agents/{engineer}/inbox")).ToJsonString().ShouldContain("do not reveal that the profile exists");
        var wake = await Seed.WithDbAsync(Server, db => db.DispatchRequests.Where(x => x.AgentId == engineer && x.Reason == DispatchReason.HumanAnswer).ToListAsync());
        wake.Count.ShouldBe(1);

        // A plan approval (the manager asks before its sub-tasks start) is one click.
        var manager = (await Server.GetJsonAsync($"/api/v1/teams/{teamId}"))["manager"]!["id"]!.GetValue<Guid>();
        var plan = await Server.PostJsonAsync($"/api/v1/agents/{manager}/human-requests",
            """{"question": "Plan: 1) users/me endpoint 2) profile page after it. Approve?", "kind": "approval"}""");
        var planCard = page.Locator($"[data-request-id='{plan["id"]}']");
        await planCard.GetByTestId("approve").ClickAsync();
        await Expect(page.GetByTestId("attention-empty")).ToBeVisibleAsync();
        (await Server.GetJsonAsync($"/api/v1/human-requests/{plan["id"]}"))["answer"]!.GetValue<string>().ShouldBe("approved");
    }

    [Fact]
    public async Task Cost_updates_live_against_the_limit_set_in_settings()
    {
        var (teamId, engineer, taskId) = await TeamWithTaskAsync("Platform");
        var page = await DashboardPage.OpenAsync(browser, Server.BaseUrl);
        await page.GoAsync($"/teams/{teamId}/settings");
        await page.FillFieldAsync("daily-limit", "10");
        await page.FillFieldAsync("max-agents", "3");
        await page.GetByTestId("save-settings").ClickAsync();
        await Expect(page.GetByTestId("settings-saved")).ToBeVisibleAsync();
        var saved = await Seed.WithDbAsync(Server, db => db.Teams.SingleAsync(t => t.Id == teamId));
        saved.DailyCostLimitUsd.ShouldBe(10);
        saved.MaxConcurrentAgents.ShouldBe(3);

        await page.GoAsync($"/teams/{teamId}/costs");
        var today = page.GetByTestId("cost-today");
        await Expect(today).ToContainTextAsync("$0.00 today of $10.00 daily limit");
        await Seed.UsageAsync(Server, teamId, engineer, taskId, 1.25);
        await Expect(today).ToContainTextAsync("$1.25 today of $10.00 daily limit");
        await Seed.UsageAsync(Server, teamId, engineer, taskId, 9.5);
        await Expect(today).ToContainTextAsync("$10.75 today");
        await Expect(page.GetByText("Over today's limit")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-cost-line='eng-backend']")).ToContainTextAsync("$10.75");
        await page.ShotAsync(Shot("costs-desktop"));

        // The task shows its own usage too.
        await page.GoAsync($"/tasks/{taskId}");
        await Expect(page.GetByTestId("task-cost")).ToHaveTextAsync("$10.75");
    }

    [Fact]
    public async Task A_review_gets_line_comments_then_approval_in_the_ui()
    {
        using var repo = GitRepo.Create();
        var org = await Server.DefaultOrgIdAsync();
        var team = await Server.PostJsonAsync($"/api/v1/orgs/{org}/teams", new JsonObject { ["name"] = "Platform", ["repo_path"] = repo.Path }.ToJsonString());
        var teamId = team["id"]!.GetValue<Guid>();
        var engineer = (await Server.PostJsonAsync($"/api/v1/teams/{teamId}/agents", """{"name": "eng-backend"}"""))["id"]!.GetValue<Guid>();
        var taskId = (await Server.PostJsonAsync($"/api/v1/teams/{teamId}/tasks",
            """{"title": "Create GET/PATCH /api/v1/users/me endpoint", "assignee_id": "eng-backend"}"""))["id"]!.GetValue<long>();
        await ChangeStatusAsync(taskId, "in_progress");
        const string branch = "entourage/task-1-create-get-patch";
        repo.CommitOnBranch(branch, "api/users.py", "def me():\n    user = load()\n    return user or abort(404)\n");
        await Seed.BranchAsync(Server, taskId, branch);
        await Server.PostJsonAsync($"/api/v1/tasks/{taskId}/request-review", """{"summary": "users/me with 404 for unknown users"}""");

        var page = await DashboardPage.OpenAsync(browser, Server.BaseUrl);
        await page.GoAsync($"/tasks/{taskId}");
        await Expect(page.GetByTestId("diff")).ToContainTextAsync("return user or abort(404)");
        await Expect(page.GetByTestId("review-state")).ToHaveTextAsync("pending");

        // A comment on line 3, then "request changes": the engineer gets it, the task goes back to work.
        await page.GetByRole(AriaRole.Button, new() { Name = "Comment on api/users.py line 3" }).ClickAsync();
        await page.Locator("[data-testid=draft-comment] textarea").First.FillAsync("Return a problem+json body, not a bare 404.");
        await page.GetByTestId("request-changes").ClickAsync();
        await Expect(page.GetByTestId("review-state")).ToHaveTextAsync("changes requested");
        await Expect(page.GetByTestId("task-state")).ToHaveTextAsync("in progress");
        await Expect(page.GetByTestId("review-comment")).ToContainTextAsync("problem+json");
        await page.ShotAsync(Shot("review-desktop"));
        (await Server.GetJsonAsync($"/api/v1/agents/{engineer}/inbox")).ToJsonString().ShouldContain("not a bare 404");

        // The engineer fixes it and asks again; the open page shows the new review live, and it is approved.
        repo.CommitOnBranch(branch, "api/users.py", "def me():\n    user = load()\n    return user or problem(404)\n");
        await Server.PostJsonAsync($"/api/v1/tasks/{taskId}/request-review", """{"summary": "problem+json 404"}""");
        await Expect(page.GetByTestId("review-state")).ToHaveTextAsync("pending");
        await Expect(page.GetByTestId("diff")).ToContainTextAsync("problem(404)");
        await page.GetByTestId("approve-review").ClickAsync();
        await Expect(page.GetByTestId("review-state")).ToHaveTextAsync("approved");
        await Expect(page.GetByTestId("merge-state")).ToBeVisibleAsync();
        var reviews = await Server.GetJsonAsync($"/api/v1/tasks/{taskId}/reviews");
        reviews.AsArray().Select(r => r!["state"]!.GetValue<string>()).ShouldBe(["changes_requested", "approved"], ignoreOrder: true);
        await page.ShotAsync(Shot("review-approved-desktop"));
    }

    [Fact]
    public async Task Fake_agents_move_tasks_through_the_dag_and_the_costs_live()
    {
        var org = await Server.DefaultOrgIdAsync();
        var teamId = (await Server.PostJsonAsync($"/api/v1/orgs/{org}/teams", """{"name": "Platform"}"""))["id"]!.GetValue<Guid>();
        var signals = Directory.CreateDirectory(Path.Combine(Server.DataDirectory, "signals")).FullName;
        await FakeAgents.AddAsync(Server, teamId, "eng-backend", FakeAgents.FinishOnSignal(signals, 0.05));
        await FakeAgents.AddAsync(Server, teamId, "eng-frontend", FakeAgents.FinishOnSignal(signals, 0.07));

        var page = await DashboardPage.OpenAsync(browser, Server.BaseUrl);
        await page.GoAsync($"/teams/{teamId}/dag");
        var batch = await Server.PostJsonAsync($"/api/v1/teams/{teamId}/tasks/batch", """
            {"tasks": [
              {"title": "Create GET/PATCH /api/v1/users/me endpoint", "assignee_id": "eng-backend"},
              {"title": "Build profile page component in React", "assignee_id": "eng-frontend", "depends_on_indices": [0]}
            ]}
            """);
        var ids = batch["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<long>()).ToArray();
        ILocator NodeOf(long id) => page.Locator($"a.dag-node[data-task-id='{id}']");

        // The dispatcher starts the backend task at once; the frontend one waits for it.
        await Expect(NodeOf(ids[0])).ToHaveAttributeAsync("data-look", "running");
        await Expect(NodeOf(ids[1])).ToHaveAttributeAsync("data-look", "waiting");
        await page.ShotAsync(Shot("dag-fake-agents-running"));

        // The running turn's log shows on the task page, live.
        var detail = await page.Context.NewPageAsync();
        await detail.GoAsync($"/tasks/{ids[0]}");
        await Expect(detail.GetByTestId("turn-log").First).ToContainTextAsync($"fake engineer working on task {ids[0]}");
        await detail.GoAsync($"/teams/{teamId}");
        await Expect(detail.Locator("[data-agent-status='eng-backend'] [data-status]")).ToHaveAttributeAsync("data-status", "busy");
        await Expect(detail.GetByTestId("agents")).ToContainTextAsync($"#{ids[0]} Create GET/PATCH");

        await File.WriteAllTextAsync(Path.Combine(signals, $"go-{ids[0]}"), "go");
        await Expect(NodeOf(ids[0])).ToHaveAttributeAsync("data-look", "done");
        await Expect(NodeOf(ids[1])).ToHaveAttributeAsync("data-look", "running");
        await File.WriteAllTextAsync(Path.Combine(signals, $"go-{ids[1]}"), "go");
        await Expect(NodeOf(ids[1])).ToHaveAttributeAsync("data-look", "done");
        await Expect(page.GetByTestId("dag-summary")).ToContainTextAsync("2 of 2 done");
        await page.ShotAsync(Shot("dag-fake-agents-done"));

        // What the turns cost, per agent, as recorded by the dispatcher.
        await page.GoAsync($"/teams/{teamId}/costs");
        await Expect(page.GetByTestId("cost-today")).ToContainTextAsync("$0.12 today");
        await Expect(page.Locator("[data-cost-line='eng-frontend']")).ToContainTextAsync("$0.07");
    }

    [Fact]
    public async Task Phone_width_in_dark_theme_has_no_sideways_scrolling()
    {
        var (teamId, engineer, taskId) = await TeamWithTaskAsync("Platform");
        await Seed.UsageAsync(Server, teamId, engineer, taskId, 0.42);
        await Server.PostJsonAsync($"/api/v1/agents/{engineer}/human-requests",
            $$"""{"question": "Which database?", "kind": "choice", "options": ["postgres", "sqlite"], "task_id": {{taskId}}}""");
        var page = await DashboardPage.OpenAsync(browser, Server.BaseUrl, DashboardPage.Phone, dark: true);
        foreach (var (path, name) in new[] { ("/", "home"), ($"/teams/{teamId}", "team"), ($"/teams/{teamId}/board", "board"), ($"/teams/{teamId}/dag", "dag"), ($"/tasks/{taskId}", "task"), ("/attention", "attention"), ("/costs", "costs") })
        {
            await page.GoAsync(path);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
            overflow.ShouldBeLessThanOrEqualTo(0, $"{path} scrolls sideways by {overflow}px at 390px");
            await page.ShotAsync(Shot($"{name}-phone-dark"));
        }
        // The theme follows the system preference and the toggle is reachable by keyboard.
        var toggle = page.GetByTestId("theme-toggle");
        await Expect(toggle).ToHaveAttributeAsync("aria-label", "Switch to light theme");
        await toggle.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(toggle).ToHaveAttributeAsync("aria-label", "Switch to dark theme");
    }
}

public sealed class DashboardScenarioSqlite(BrowserFixture browser) : DashboardScenario(browser, Store.Sqlite);

public sealed class DashboardScenarioPostgres(BrowserFixture browser) : DashboardScenario(browser, Store.Postgres);
