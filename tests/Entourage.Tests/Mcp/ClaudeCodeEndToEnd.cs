using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Entourage.Client.Contracts;
using Entourage.Server.Git;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Entourage.Tests.Dispatch.DispatchHarness;
using static Entourage.Tests.Dispatch.DispatchHarnessExtras;

namespace Entourage.Tests.Mcp;

/// <summary>
/// The whole loop with the real Claude Code CLI launched by our dispatcher (only the model is scripted), on a team
/// that requires review (the default): the manager plans a three-task chain over MCP and waits in its turn; each
/// engineer, in its own worktree, reads its inbox, writes and commits a file with Bash and calls request_review; a
/// person approves over REST; the merge queue lands the branch on main, which makes the next task ready. Per store.
/// </summary>
public abstract partial class ClaudeCodeEndToEnd(Store store)
{
    private const string Model = "claude-sonnet-4-20250514";

    [GeneratedRegex(@"Current task: \[task:(\d+)\]")]
    private static partial Regex CurrentTask();

    [Fact]
    public async Task Manager_and_two_engineers_run_as_real_claude_processes_and_their_reviewed_work_lands_on_main()
    {
        await using var server = await TestServer.StartAsync(store, FastSettings(new Dictionary<string, string?>
        {
            ["Dispatch:LeaseSeconds"] = "30",
            ["Merging:PollSeconds"] = "1",
        }));
        var repo = await CreateGitRepoAsync(server.DataDirectory);
        var team = await CreateTeamAsync(server, "platform", repo);
        (await server.GetJsonAsync($"/api/v1/settings/teams/{team}"))["require_review"]!.GetValue<bool>().ShouldBeTrue("review is on by default");

        long featureId = 0;
        var waitText = "";
        var managerFinished = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var scriptErrors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var scriptedCalls = new System.Collections.Concurrent.ConcurrentDictionary<long, int>();
        await using var model = await ScriptedModelServer.StartAsync(r =>
        {
            var match = CurrentTask().Match(r.FirstUserText);
            if (!match.Success) throw new InvalidOperationException("No 'Current task' in the prompt: " + r.FirstUserText);
            var taskId = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            scriptedCalls.AddOrUpdate(taskId, 1, (_, n) => n + 1);
            var last = r.Last;
            if (last is { IsError: true }) scriptErrors.Enqueue($"task {taskId} step {r.Step} {last.Name}: {last.Text}");
            return taskId == Volatile.Read(ref featureId) ? Manager(r) : Engineer(r, taskId);
        });

        ModelStep Manager(ModelRequest r)
        {
            switch (r.Step)
            {
                case 0: return new ModelStep.ToolCall("list_team_agents", []);
                case 1:
                    return new ModelStep.ToolCall("create_tasks_batch", new JsonObject
                    {
                        ["tasks"] = new JsonArray(
                            new JsonObject { ["title"] = "Greeting alpha", ["assignee_id"] = "eng-one", ["parent_id"] = featureId },
                            new JsonObject { ["title"] = "Greeting beta", ["assignee_id"] = "eng-two", ["parent_id"] = featureId, ["depends_on_indices"] = new JsonArray(0) },
                            new JsonObject { ["title"] = "Greeting gamma", ["assignee_id"] = "eng-one", ["parent_id"] = featureId, ["depends_on_indices"] = new JsonArray(1) }),
                    });
                case 2:
                    // Claude Code appends a <system-reminder> text block to tool results: parse only the tool's JSON.
                    var created = JsonNode.Parse(r.Last!.Text.Split("<system-reminder>")[0])!;
                    var ids = (created["tasks"] as JsonArray ?? created.AsArray()).Select(t => (JsonNode)t!["id"]!.GetValue<long>()).ToArray();
                    return new ModelStep.ToolCall("wait_for_task_completion", new JsonObject { ["task_ids"] = new JsonArray(ids), ["timeout_seconds"] = 600 });
                case 3:
                    waitText = r.Last!.Text;
                    // A parent task is done with its last child; marking it done again is a harmless no-op.
                    return new ModelStep.ToolCall("update_task_status", new JsonObject { ["task_id"] = featureId, ["status"] = "done", ["reason"] = "all sub-tasks done" });
                default:
                    managerFinished.TrySetResult(waitText);
                    return new ModelStep.Text("The greeting feature is built and merged.");
            }
        }

        static ModelStep Engineer(ModelRequest r, long taskId) => r.Step switch
        {
            0 => new ModelStep.ToolCall("get_inbox", []),
            1 => new ModelStep.ToolCall("Bash", new JsonObject
            {
                ["command"] = $"printf 'greeting from task {taskId}\\n' > task-{taskId}.txt",
                ["description"] = "Write the greeting file",
            }),
            2 => new ModelStep.ToolCall("Bash", new JsonObject
            {
                ["command"] = $"git add task-{taskId}.txt && git commit -q -m 'Add greeting for task {taskId}'",
                ["description"] = "Commit the greeting",
            }),
            3 => new ModelStep.ToolCall("request_review", new JsonObject { ["task_id"] = taskId, ["summary"] = $"Adds task-{taskId}.txt with its greeting." }),
            _ => new ModelStep.Text($"Task {taskId} is in review."),
        };

        var home = Directory.CreateTempSubdirectory("entourage-claude-home-").FullName;
        await ConfigureAgentsAsync(server, team, home, model.BaseUrl);
        var manager = (await server.GetJsonAsync($"/api/v1/teams/{team}"))["manager"]!["id"]!.GetValue<Guid>();

        var ct = TestContext.Current.CancellationToken;
        using var stopReviewer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reviewer = ApproveReviewsAsync(server, team, stopReviewer.Token);

        // Created unassigned so the script knows the feature's id before the manager's first turn asks.
        var feature = await server.PostJsonAsync($"/api/v1/teams/{team}/tasks", """{"title": "Greeting feature", "description": "Three greeting files, one after the other.", "priority": "high"}""");
        Volatile.Write(ref featureId, feature["id"]!.GetValue<long>());
        await server.PostJsonAsync($"/api/v1/tasks/{featureId}/assign", new JsonObject { ["assignee_id"] = manager.ToString() }.ToJsonString());

        TestContext.Current.SendDiagnosticMessage("model requests logged in " + model.LogDirectory);
        // The reviewer runs until stopped: if it ends first, it failed (an approval refused), and that is the error to show.
        if (await Task.WhenAny(managerFinished.Task, reviewer).WaitAsync(TimeSpan.FromMinutes(8), ct) == reviewer) await reviewer;
        var waitResult = await managerFinished.Task;
        await WaitUntilAsync(server, async db => await db.Tasks.AnyAsync(t => t.Id == featureId && t.Status == TaskState.Done, ct)
            && !await db.Turns.AnyAsync(t => t.TeamId == team && t.State == TurnState.Running, ct), "the feature done and every turn finished", TimeSpan.FromMinutes(2));
        await stopReviewer.CancelAsync();
        var approvals = await reviewer;
        scriptErrors.ShouldBeEmpty();
        waitResult.ShouldContain("\"completed\":true");

        await using var db = Db(server);
        var subtasks = await db.Tasks.Where(t => t.ParentId == featureId).OrderBy(t => t.Id).ToListAsync(ct);
        subtasks.Select(t => t.Title).ShouldBe(["Greeting alpha", "Greeting beta", "Greeting gamma"]);
        subtasks.ShouldAllBe(t => t.Status == TaskState.Done);
        var (t1, t2, t3) = (subtasks[0].Id, subtasks[1].Id, subtasks[2].Id);
        var ids = new[] { featureId, t1, t2, t3 };
        approvals.ShouldBe([t1, t2, t3], "one approval per task, in DAG order");

        await AssertTimelineAsync(db, featureId, [t1, t2, t3], ct);
        await AssertReviewsAndMainAsync(db, repo, subtasks, ct);

        // Exactly the turns the work needs: one per engineer task, and one for the manager, whose wait returned in
        // its turn (no second wake-up for the same news; see ManagerWakeupsContract).
        var turns = await db.Turns.Where(t => t.TeamId == team).ToListAsync(ct);
        turns.Select(t => t.TaskId).Order().ShouldBe(ids.Cast<long?>().Order());
        turns.ShouldAllBe(t => t.State == TurnState.Succeeded);
        turns.Single(t => t.TaskId == featureId).AgentId.ShouldBe(manager);
        (await db.DispatchRequests.CountAsync(r => r.TeamId == team && r.State != DispatchState.Done, ct)).ShouldBe(0);
        await AssertCostsAsync(server, db, team, turns, scriptedCalls, ct);
    }
}

public sealed class ClaudeCodeEndToEndSqlite() : ClaudeCodeEndToEnd(Store.Sqlite);

public sealed class ClaudeCodeEndToEndPostgres() : ClaudeCodeEndToEnd(Store.Postgres);
