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
/// The whole loop with the real Claude Code CLI launched by our dispatcher (only the model is scripted): the
/// manager plans a three-task chain over MCP and waits; each engineer, in its own worktree, reads its inbox,
/// writes and commits a file with Bash and marks its task done; the dispatcher starts each task when the DAG allows.
/// </summary>
public sealed partial class ClaudeCodeEndToEnd
{
    private const string Model = "claude-sonnet-4-20250514";

    [GeneratedRegex(@"Current task: \[task:(\d+)\]")]
    private static partial Regex CurrentTask();

    [Fact]
    public async Task Manager_and_two_engineers_run_as_real_claude_processes_through_the_dispatcher()
    {
        await using var server = await TestServer.StartAsync(Store.Sqlite, FastSettings(new Dictionary<string, string?> { ["Dispatch:LeaseSeconds"] = "30" }));
        var repo = await CreateGitRepoAsync(server.DataDirectory);
        var team = await CreateTeamAsync(server, "platform", repo);
        await PatchSettingsAsync(server, team, """{"require_review": false}""");

        long featureId = 0;
        var waitText = "";
        var managerFinished = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var scriptErrors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var model = await ScriptedModelServer.StartAsync(r =>
        {
            var match = CurrentTask().Match(r.FirstUserText);
            if (!match.Success) throw new InvalidOperationException("No 'Current task' in the prompt: " + r.FirstUserText);
            var taskId = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
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
                    return new ModelStep.ToolCall("update_task_status", new JsonObject { ["task_id"] = featureId, ["status"] = "done", ["reason"] = "all sub-tasks done" });
                default:
                    managerFinished.TrySetResult(waitText);
                    return new ModelStep.Text("The greeting feature is built.");
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
                ["command"] = $"git add -A && git commit -q -m 'Add greeting for task {taskId}'",
                ["description"] = "Commit the greeting",
            }),
            3 => new ModelStep.ToolCall("update_task_status", new JsonObject { ["task_id"] = taskId, ["status"] = "done" }),
            _ => new ModelStep.Text($"Task {taskId} is done."),
        };

        // The server passes only allow-listed variables to agents; config.env is the per-agent way to add more.
        var home = Directory.CreateTempSubdirectory("entourage-claude-home-").FullName;
        JsonObject Config(string description) => new()
        {
            ["command"] = AgentClis.Claude,
            ["description"] = description,
            ["env"] = new JsonObject
            {
                ["HOME"] = home,
                ["ANTHROPIC_BASE_URL"] = model.BaseUrl.ToString().TrimEnd('/'),
                ["ANTHROPIC_API_KEY"] = "sk-ant-test-scripted",
                ["IS_SANDBOX"] = "1",
                ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1",
                ["CLAUDE_CODE_MAX_RETRIES"] = "1",
                ["DISABLE_AUTOUPDATER"] = "1",
                ["DISABLE_TELEMETRY"] = "1",
                ["MCP_TOOL_TIMEOUT"] = "600000",
            },
        };
        foreach (var name in new[] { "eng-one", "eng-two" })
            await server.PostJsonAsync($"/api/v1/teams/{team}/agents", new JsonObject
            {
                ["name"] = name, ["role"] = "engineer", ["model"] = Model, ["adapter"] = "claude-code", ["config"] = Config("Engineer " + name),
            }.ToJsonString());
        var manager = (await server.GetJsonAsync($"/api/v1/teams/{team}"))["manager"]!["id"]!.GetValue<Guid>();
        var patch = await server.Http.PatchAsync($"/api/v1/agents/{manager}", new StringContent(new JsonObject
        {
            ["adapter"] = "claude-code", ["model"] = Model, ["config"] = Config("The team's manager"),
        }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        patch.IsSuccessStatusCode.ShouldBeTrue(await patch.Content.ReadAsStringAsync());

        // Created unassigned so the script knows the feature's id before the manager's first turn asks.
        var feature = await server.PostJsonAsync($"/api/v1/teams/{team}/tasks", """{"title": "Greeting feature", "description": "Three greeting files, one after the other.", "priority": "high"}""");
        Volatile.Write(ref featureId, feature["id"]!.GetValue<long>());
        await server.PostJsonAsync($"/api/v1/tasks/{featureId}/assign", new JsonObject { ["assignee_id"] = manager.ToString() }.ToJsonString());

        var ct = TestContext.Current.CancellationToken;
        TestContext.Current.SendDiagnosticMessage("model requests logged in " + model.LogDirectory);
        var waitResult = await managerFinished.Task.WaitAsync(TimeSpan.FromMinutes(8), ct);
        await WaitUntilAsync(server, async db => await db.Tasks.AnyAsync(t => t.Id == featureId && t.Status == TaskState.Done, ct)
            && !await db.Turns.AnyAsync(t => t.State == TurnState.Running, ct), "the feature done and every turn finished", TimeSpan.FromMinutes(2));
        scriptErrors.ShouldBeEmpty();
        waitResult.ShouldContain("\"completed\":true");

        await using var db = Db(server);
        var subtasks = await db.Tasks.Where(t => t.ParentId == featureId).OrderBy(t => t.Id).ToListAsync(ct);
        subtasks.Select(t => t.Title).ShouldBe(["Greeting alpha", "Greeting beta", "Greeting gamma"]);
        subtasks.ShouldAllBe(t => t.Status == TaskState.Done);
        var (t1, t2, t3) = (subtasks[0].Id, subtasks[1].Id, subtasks[2].Id);

        // The dispatcher started each task only once its dependency was done.
        var ids = new[] { featureId, t1, t2, t3 };
        var events = await db.TaskEvents.Where(e => ids.Contains(e.TaskId)).OrderBy(e => e.Id).ToListAsync(ct);
        long Started(long task) => events.First(e => e.TaskId == task && e.Kind == "turn_started").Id;
        long Done(long task) => events.First(e => e.TaskId == task && e.Kind == "status_changed" && e.ToStatus == "done").Id;
        var order = new[] { Started(featureId), Started(t1), Done(t1), Started(t2), Done(t2), Started(t3), Done(t3), Done(featureId) };
        order.ShouldBe(order.Order().ToArray(), string.Join("\n", events.Select(e => $"{e.Id} task {e.TaskId} {e.Kind} {e.ToStatus}")));

        // Each engineer task ran in its own worktree and committed its file on its own branch.
        foreach (var (task, slug) in new[] { (t1, "greeting-alpha"), (t2, "greeting-beta"), (t3, "greeting-gamma") })
        {
            var row = subtasks.Single(t => t.Id == task);
            row.WorktreePath.ShouldBe(Path.Combine(repo, ".worktrees", $"task-{task}-{slug}"));
            row.Branch.ShouldBe($"entourage/task-{task}-{slug}");
            (await GitCli.RunOrThrowAsync(repo, ["show", $"{row.Branch}:task-{task}.txt"], ct)).ShouldContain($"greeting from task {task}");
            (await GitCli.RunOrThrowAsync(repo, ["log", "-1", "--format=%s", row.Branch!], ct)).Trim().ShouldBe($"Add greeting for task {task}");
        }

        // Usage and cost come from the CLI's result record, which adds up the scripted model's usage.
        var turns = await db.Turns.Where(t => t.TaskId != null && ids.Contains(t.TaskId.Value)).ToListAsync(ct);
        // One turn per engineer task; the manager may be woken once more when its sub-tasks settle.
        foreach (var task in new[] { t1, t2, t3 }) turns.Count(t => t.TaskId == task).ShouldBe(1, $"task {task} ran once");
        turns.Count(t => t.TaskId == featureId).ShouldBeGreaterThanOrEqualTo(1);
        // A later manager wake-up may still be running: judge the manager by its finished planning turn.
        turns.ShouldContain(t => t.TaskId == featureId && t.State == TurnState.Succeeded && t.CostUsd > 0);
        foreach (var turn in turns.Where(t => t.TaskId != featureId || t.State != TurnState.Running))
        {
            turn.State.ShouldBe(TurnState.Succeeded);
            turn.InputTokens.ShouldBeGreaterThanOrEqualTo(ScriptedModelServer.InputTokensPerCall);
            turn.OutputTokens.ShouldBeGreaterThanOrEqualTo(ScriptedModelServer.OutputTokensPerCall);
            turn.CostUsd.ShouldBeGreaterThan(0);
        }
        model.Requests.Count(q => q.Path.EndsWith("/v1/messages", StringComparison.Ordinal)).ShouldBeGreaterThanOrEqualTo(4 * 5);
    }
}
