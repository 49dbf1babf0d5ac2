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
/// An engineer turn of the real Codex CLI launched by our dispatcher (only the model is scripted, over the OpenAI
/// Responses API): in its task's worktree it reads its inbox and its task over MCP, writes and commits a file with
/// Codex's own shell tool, reports progress and finishes the task. The adapter alone tells Codex where /mcp is
/// and which token to use; the turn's usage is priced from the price table.
/// </summary>
public abstract partial class CodexEndToEndContract(Store store)
{
    [GeneratedRegex(@"Current task: \[task:(\d+)\]")]
    private static partial Regex CurrentTask();

    [Fact]
    public async Task Engineer_turn_of_the_real_codex_cli_calls_our_tools_and_finishes_its_task()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync(store, FastSettings(new Dictionary<string, string?> { ["Dispatch:LeaseSeconds"] = "30" }));
        var repo = await CreateGitRepoAsync(server.DataDirectory);
        var team = await CreateTeamAsync(server, "platform", repo);
        await PatchSettingsAsync(server, team, """{"require_review": false}""");

        var toolResults = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        await using var model = await ScriptedModelServer.StartAsync(r =>
        {
            var match = CurrentTask().Match(r.FirstUserText);
            if (!match.Success) throw new InvalidOperationException("No 'Current task' in the prompt: " + r.FirstUserText[..Math.Min(2000, r.FirstUserText.Length)]);
            var taskId = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            if (r.Last is { } last) toolResults[last.Name] = last.Text;
            return r.Step switch
            {
                0 => new ModelStep.ToolCall("get_inbox", []),
                1 => new ModelStep.ToolCall("get_task", new JsonObject { ["task_id"] = taskId }),
                2 => new ModelStep.ToolCall("exec_command", new JsonObject
                {
                    ["cmd"] = $"printf 'hello from codex, task {taskId}\\n' > codex-{taskId}.txt && git add -A && git commit -q -m 'Add codex greeting for task {taskId}' && echo committed",
                }),
                3 => new ModelStep.ToolCall("report_progress", new JsonObject { ["task_id"] = taskId, ["note"] = "greeting committed, closing the task", ["percent"] = 90 }),
                4 => new ModelStep.ToolCall("update_task_status", new JsonObject { ["task_id"] = taskId, ["status"] = "done", ["reason"] = "greeting committed" }),
                _ => new ModelStep.Text($"Task {taskId} is done."),
            };
        });

        var codexHome = AgentClis.WriteCodexHome(model.BaseUrl);
        try
        {
            await RunEngineerTurnAsync(server, repo, team, model, codexHome, toolResults, ct);
        }
        finally
        {
            // Codex keeps its sessions and state databases there (about a megabyte a run).
            try { Directory.Delete(codexHome, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static async Task RunEngineerTurnAsync(TestServer server, string repo, Guid team, ScriptedModelServer model, string codexHome,
        System.Collections.Concurrent.ConcurrentDictionary<string, string> toolResults, CancellationToken ct)
    {
        // The server passes only allow-listed variables to agents; config.env is the per-agent way to add more.
        var env = new JsonObject();
        foreach (var (k, v) in AgentClis.CodexEnvironment(codexHome)) env[k] = v;
        var engineer = await server.PostJsonAsync($"/api/v1/teams/{team}/agents", new JsonObject
        {
            ["name"] = "eng-codex", ["role"] = "engineer", ["model"] = AgentClis.CodexModel, ["adapter"] = "codex",
            ["config"] = new JsonObject { ["command"] = AgentClis.Codex, ["description"] = "Engineer on Codex", ["env"] = env },
        }.ToJsonString());
        var engineerId = engineer["id"]!.GetValue<Guid>();

        TestContext.Current.SendDiagnosticMessage("model requests logged in " + model.LogDirectory);
        var taskId = await AddTaskAsync(server, team, engineerId, "Codex greeting");
        await WaitUntilAsync(server, async db => await db.Turns.AnyAsync(t => t.TaskId == taskId && t.State != TurnState.Running, ct),
            "the codex turn to end", TimeSpan.FromMinutes(4));

        await using var db = Db(server);
        var turn = await db.Turns.AsNoTracking().Where(t => t.TaskId == taskId).OrderBy(t => t.StartedAt).FirstAsync(ct);
        var context = $"turn {turn.State} exit {turn.ExitCode} error {turn.Error}\nmodel log: {model.LogDirectory}\n" +
            $"--- tool results ---\n{string.Join("\n", toolResults.Select(kv => kv.Key + ": " + kv.Value))}\n--- turn log ---\n{Tail(turn.Log)}";
        turn.State.ShouldBe(TurnState.Succeeded, context);
        (await db.Turns.CountAsync(t => t.TaskId == taskId, ct)).ShouldBe(1, "one turn for the task");

        // Every tool call reached our server with the turn's own token, and its answer reached the model.
        var task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, ct);
        task.Status.ShouldBe(TaskState.Done, context);
        toolResults.Keys.ShouldBe(["get_inbox", "get_task", "exec_command", "report_progress", "update_task_status"], ignoreOrder: true, context);
        toolResults["get_task"].ShouldContain("Codex greeting");
        toolResults["exec_command"].ShouldContain("committed");
        var events = await db.TaskEvents.AsNoTracking().Where(e => e.TaskId == taskId).OrderBy(e => e.Id).ToListAsync(ct);
        var timeline = string.Join("\n", events.Select(e => $"{e.Id} {e.Kind} {e.ActorName} {e.ToStatus} {e.DataJson}"));
        var progress = events.Single(e => e.Kind == "progress");
        progress.ActorName.ShouldBe("eng-codex", timeline);
        progress.DataJson!.ShouldContain("greeting committed, closing the task");
        var done = events.Single(e => e.Kind == "status_changed" && e.ToStatus == "done");
        done.ActorName.ShouldBe("eng-codex", timeline);
        var kinds = events.Select(e => e.Kind).ToList();
        kinds.IndexOf("turn_started").ShouldBeLessThan(kinds.IndexOf("progress"), timeline);
        kinds.IndexOf("progress").ShouldBeLessThan(events.IndexOf(done), timeline);

        // The shell tool ran in the task's own worktree and committed on its branch.
        task.WorktreePath.ShouldBe(Path.Combine(repo, ".worktrees", $"task-{taskId}-codex-greeting"));
        task.Branch.ShouldBe($"entourage/task-{taskId}-codex-greeting");
        turn.WorkingDirectory.ShouldBe(task.WorktreePath);
        (await GitCli.RunOrThrowAsync(repo, ["show", $"{task.Branch}:codex-{taskId}.txt"], ct)).ShouldContain($"hello from codex, task {taskId}");
        (await GitCli.RunOrThrowAsync(repo, ["log", "-1", "--format=%s", task.Branch!], ct)).Trim().ShouldBe($"Add codex greeting for task {taskId}");

        // Usage is the sum of Codex's turn.completed records: exactly what the scripted model reported per response
        // (cached input apart), priced as gpt-5-codex: 1.25 $/M input, 0.125 $/M cached input, 10 $/M output.
        var responses = model.Requests.Count(q => q.Path.EndsWith("/responses", StringComparison.Ordinal));
        responses.ShouldBe(6, context);
        turn.InputTokens.ShouldBe(responses * (long)(ScriptedModelServer.InputTokensPerCall - OpenAiWire.CachedInputTokensPerCall), context);
        turn.CacheReadTokens.ShouldBe(responses * (long)OpenAiWire.CachedInputTokensPerCall);
        turn.OutputTokens.ShouldBe(responses * (long)ScriptedModelServer.OutputTokensPerCall, context);
        var expectedCost = (turn.InputTokens * 1.25 + turn.CacheReadTokens * 0.125 + turn.OutputTokens * 10) / 1_000_000d;
        turn.CostUsd.ShouldBe(expectedCost, 1e-9);
        turn.SessionId.ShouldNotBeNullOrEmpty("codex's thread id is kept as the session");

        // The turn's usage is recorded once, on the task's timeline and in the team's costs.
        var usage = await db.UsageRecords.AsNoTracking().SingleAsync(u => u.TurnId == turn.Id, ct);
        usage.Model.ShouldBe(AgentClis.CodexModel);
        usage.CostUsd.ShouldBe(expectedCost, 1e-9);
        events.Single(e => e.Kind == "usage").DataJson!.ShouldContain(turn.Id.ToString());
        var costs = await server.GetJsonAsync($"/api/v1/teams/{team}/costs");
        var byAgent = costs["by_agent"]!.AsArray().Single(a => a!["agent_name"]!.GetValue<string>() == "eng-codex")!;
        byAgent["cost_usd"]!.GetValue<double>().ShouldBe(expectedCost, 1e-9);
        byAgent["turns"]!.GetValue<int>().ShouldBe(1);
        byAgent["output_tokens"]!.GetValue<long>().ShouldBe(turn.OutputTokens);
    }

    private static string Tail(string log) => log.Length <= 6000 ? log : "…" + log[^6000..];
}

public sealed class CodexEndToEndSqlite() : CodexEndToEndContract(Store.Sqlite);

public sealed class CodexEndToEndPostgres() : CodexEndToEndContract(Store.Postgres);
