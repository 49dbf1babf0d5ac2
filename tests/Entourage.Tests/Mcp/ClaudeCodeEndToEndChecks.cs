using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Git;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Mcp;

/// <summary>The end-to-end test's setup, its human reviewer, and its checks of the timeline, git and costs.</summary>
public abstract partial class ClaudeCodeEndToEnd
{
    private const string Reviewer = "ana";

    /// <summary>The engineers and the manager as real claude processes pointed at the scripted model.</summary>
    private static async Task ConfigureAgentsAsync(TestServer server, Guid team, string home, Uri modelUrl)
    {
        // The server passes only allow-listed variables to agents; config.env is the per-agent way to add more.
        JsonObject Config(string description) => new()
        {
            ["command"] = AgentClis.Claude,
            ["description"] = description,
            ["env"] = new JsonObject
            {
                ["HOME"] = home,
                ["ANTHROPIC_BASE_URL"] = modelUrl.ToString().TrimEnd('/'),
                ["ANTHROPIC_API_KEY"] = "sk-ant-test-scripted",
                ["IS_SANDBOX"] = "1",
                ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1",
                ["CLAUDE_CODE_MAX_RETRIES"] = "1",
                ["DISABLE_AUTOUPDATER"] = "1",
                ["DISABLE_TELEMETRY"] = "1",
                ["MCP_TOOL_TIMEOUT"] = "600000",
                ["GIT_AUTHOR_NAME"] = "Engineer", ["GIT_AUTHOR_EMAIL"] = "engineer@entourage.local",
                ["GIT_COMMITTER_NAME"] = "Engineer", ["GIT_COMMITTER_EMAIL"] = "engineer@entourage.local",
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
    }

    /// <summary>
    /// A person reviewing over REST: approves each pending review once its engineer's turn has ended (as a reviewer
    /// would, and so the merge never removes a worktree a process still runs in). Returns the approved task ids in order.
    /// </summary>
    private static async Task<List<long>> ApproveReviewsAsync(TestServer server, Guid team, CancellationToken stop)
    {
        var approved = new List<long>();
        using var sub = server.Services.GetRequiredService<ChangeFeed>().Subscribe();
        while (!stop.IsCancellationRequested)
        {
            await using (var db = Db(server))
            {
                var ready = await (from r in db.Reviews
                                   join t in db.Tasks on r.TaskId equals t.Id
                                   where r.TeamId == team && r.State == ReviewState.Pending && t.Status == TaskState.InReview &&
                                         !db.Turns.Any(x => x.TaskId == t.Id && x.State == TurnState.Running)
                                   orderby r.Id
                                   select new { r.Id, r.TaskId }).ToListAsync(CancellationToken.None);
                foreach (var r in ready)
                {
                    await server.PostJsonAsync($"/api/v1/reviews/{r.Id}/approve", $$"""{"body": "Looks good.", "reviewer": "{{Reviewer}}"}""");
                    approved.Add(r.TaskId);
                }
            }
            // Woken by the next committed change; the 1 s tick only covers changes this process's feed cannot see.
            using var tick = CancellationTokenSource.CreateLinkedTokenSource(stop);
            tick.CancelAfter(1000);
            try { await sub.Reader.WaitToReadAsync(tick.Token); } catch (OperationCanceledException) { }
            while (sub.Reader.TryRead(out _)) { }
        }
        return approved;
    }

    /// <summary>Each task's story in order, and the DAG honoured: a task starts only after its dependency merged.</summary>
    private static async Task AssertTimelineAsync(AppDbContext db, long feature, long[] chain, CancellationToken ct)
    {
        var ids = chain.Append(feature).ToArray();
        var events = await db.TaskEvents.Where(e => ids.Contains(e.TaskId)).OrderBy(e => e.Id).ToListAsync(ct);
        var dump = string.Join("\n", events.Select(e => $"{e.Id} {e.CreatedAt:HH:mm:ss.fff} task {e.TaskId} {e.Kind} {e.FromStatus}->{e.ToStatus} by {e.ActorName}"));
        TestContext.Current.TestOutputHelper?.WriteLine("timeline:\n" + dump);
        TaskEvent One(long task, string kind, string? to = null)
        {
            var found = events.Where(e => e.TaskId == task && e.Kind == kind && (to is null || e.ToStatus == to)).ToList();
            found.Count.ShouldBe(1, $"one {kind} {to} of task {task}\n{dump}");
            return found[0];
        }

        var order = new List<(string What, long Id)> { ("manager turn started", One(feature, "turn_started").Id) };
        for (var i = 0; i < chain.Length; i++)
        {
            var t = chain[i];
            if (i > 0) order.Add(($"task {t} unblocked", One(t, "unblocked").Id));
            order.Add(($"task {t} turn started", One(t, "turn_started").Id));
            order.Add(($"task {t} review requested", One(t, "review_requested").Id));
            order.Add(($"task {t} in review", One(t, "status_changed", "in_review").Id));
            order.Add(($"task {t} turn ended", One(t, "turn_ended").Id));
            order.Add(($"task {t} approved", One(t, "review_approved").Id));
            order.Add(($"task {t} merged", One(t, "merged").Id));
            order.Add(($"task {t} done", One(t, "status_changed", "done").Id));
            One(t, "review_approved").ActorName.ShouldBe(Reviewer);
            One(t, "status_changed", "done").ActorName.ShouldBe("merge-queue", "done comes from the merge, not from the engineer");
            One(t, "status_changed", "in_review").ActorType.ShouldBe(ActorType.Agent);
        }
        order.Add(("feature done", One(feature, "status_changed", "done").Id));
        order.Add(("manager turn ended", One(feature, "turn_ended").Id));
        order.Select(o => o.What).ShouldBe(order.OrderBy(o => o.Id).Select(o => o.What), dump);
    }

    /// <summary>Worktrees named after the tasks and removed after merge, diffs recorded, each file on main exactly once.</summary>
    private static async Task AssertReviewsAndMainAsync(AppDbContext db, string repo, List<TaskItem> subtasks, CancellationToken ct)
    {
        foreach (var (row, slug) in subtasks.Zip(new[] { "greeting-alpha", "greeting-beta", "greeting-gamma" }))
        {
            var id = row.Id;
            var worktree = Path.Combine(repo, ".worktrees", $"task-{id}-{slug}");
            (await db.Turns.SingleAsync(t => t.TaskId == id, ct)).WorkingDirectory.ShouldBe(worktree);
            row.Branch.ShouldBe($"entourage/task-{id}-{slug}");
            row.WorktreePath.ShouldBeNull("the worktree is released after the merge");
            Directory.Exists(worktree).ShouldBeFalse();
            (await GitCli.RunOrThrowAsync(repo, ["log", "-1", "--format=%s", row.Branch!], ct)).Trim().ShouldBe($"Add greeting for task {id}", "the branch is kept");

            var review = await db.Reviews.SingleAsync(r => r.TaskId == id, ct);
            review.State.ShouldBe(ReviewState.Approved);
            review.Reviewer.ShouldBe(Reviewer);
            review.Summary.ShouldBe($"Adds task-{id}.txt with its greeting.");
            review.Diff.ShouldContain($"+++ b/task-{id}.txt");
            review.Diff.ShouldContain($"+greeting from task {id}");
            var merge = await db.MergeQueue.SingleAsync(m => m.TaskId == id, ct);
            merge.State.ShouldBe(MergeState.Merged);

            (await GitCli.RunOrThrowAsync(repo, ["show", $"main:task-{id}.txt"], ct)).Trim().ShouldBe($"greeting from task {id}");
            (await GitCli.RunOrThrowAsync(repo, ["log", "--format=%H", "main", "--", $"task-{id}.txt"], ct)).Trim().ShouldBe(merge.MergedSha);
            (await File.ReadAllTextAsync(Path.Combine(repo, $"task-{id}.txt"), ct)).ShouldBe($"greeting from task {id}\n", "main's checkout follows the merge");
        }
        // One squashed commit per task on top of the initial one, in DAG order.
        var log = (await GitCli.RunOrThrowAsync(repo, ["log", "--format=%s", "main"], ct)).Trim().Split('\n');
        log.ShouldBe([.. subtasks.Select(t => $"{t.Title} (task #{t.Id})").Reverse(), "init"]);
        (await GitCli.RunOrThrowAsync(repo, ["ls-tree", "--name-only", "main"], ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .ShouldBe(["README.md", .. subtasks.Select(t => $"task-{t.Id}.txt")], ignoreOrder: true);
    }

    /// <summary>
    /// Tokens and cost come from each CLI's result record, which adds up the scripted model's fixed usage per call;
    /// the usage rows and GET /teams/{id}/costs add up to the same numbers.
    /// </summary>
    private static async Task AssertCostsAsync(TestServer server, AppDbContext db, Guid team, List<Turn> turns,
        System.Collections.Concurrent.ConcurrentDictionary<long, int> scriptedCalls, CancellationToken ct)
    {
        foreach (var turn in turns)
        {
            var calls = turn.InputTokens / ScriptedModelServer.InputTokensPerCall;
            turn.InputTokens.ShouldBe(calls * ScriptedModelServer.InputTokensPerCall, $"turn of task {turn.TaskId}: whole calls");
            turn.OutputTokens.ShouldBe(calls * ScriptedModelServer.OutputTokensPerCall, $"turn of task {turn.TaskId}");
            // Every model call of a turn carries its task's prompt, and each task ran in exactly one turn.
            calls.ShouldBe(scriptedCalls[turn.TaskId!.Value], $"turn of task {turn.TaskId} counts every call the model answered");
            // Claude Code prices Sonnet 4 at $3 per million input tokens and $15 per million output tokens.
            turn.CostUsd.ShouldBe(calls * (ScriptedModelServer.InputTokensPerCall * 3e-6 + ScriptedModelServer.OutputTokensPerCall * 15e-6), 1e-9,
                $"turn of task {turn.TaskId}: {calls} calls");
        }
        var usage = await db.UsageRecords.Where(u => u.TeamId == team).ToListAsync(ct);
        usage.Sum(u => u.CostUsd).ShouldBe(turns.Sum(t => t.CostUsd), 1e-9);
        usage.Sum(u => u.InputTokens).ShouldBe(turns.Sum(t => t.InputTokens));
        var costs = await server.GetJsonAsync($"/api/v1/teams/{team}/costs");
        costs["total_usd"]!.GetValue<double>().ShouldBe(turns.Sum(t => t.CostUsd), 1e-9);
        foreach (var turn in turns)
            costs["by_task"]!.AsArray().Single(x => x!["task_id"]?.GetValue<long>() == turn.TaskId)!["cost_usd"]!.GetValue<double>().ShouldBe(turn.CostUsd, 1e-9);
    }
}
