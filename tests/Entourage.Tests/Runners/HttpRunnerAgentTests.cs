using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Entourage.Tests.Dispatch.DispatchHarness;
using static Entourage.Tests.Dispatch.DispatchHarnessExtras;

namespace Entourage.Tests.Runners;

/// <summary>
/// An HTTP runner and the agent processes it starts (issue #10): a turn it cannot start (the agent's executable is
/// not on this machine) goes back to the queue for a node that has it, and a cancelled task's turn is stopped with
/// its whole process tree. Runners coordinate through PostgreSQL, so these run on PostgreSQL only.
/// </summary>
public sealed class HttpRunnerAgentTests : IAsyncLifetime
{
    private const string AgentExecutable = "entourage-test-agent";

    private RunnerCluster _c = null!;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_c is not null) await _c.DisposeAsync();
    }

    /// <summary>An engineer whose config.command is the bare name of an executable, found (or not) on each node's PATH.</summary>
    private async Task<Guid> AddAgentRunningAsync(Guid team, string command, JsonArray args)
    {
        var body = new JsonObject
        {
            ["name"] = "eng",
            ["adapter"] = "command",
            ["config"] = new JsonObject { ["command"] = command, ["args"] = args },
        };
        return (await _c.Server.PostJsonAsync($"/api/v1/teams/{team}/agents", body.ToJsonString()))["id"]!.GetValue<Guid>();
    }

    private async Task<string> ScriptAsync(params JsonObject[] steps)
    {
        var path = Path.Combine(_c.Root, $"script-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, new JsonObject { ["record_dir"] = Path.Combine(_c.Root, "records"), ["steps"] = new JsonArray(steps) }.ToJsonString());
        return path;
    }

    [Fact]
    public async Task A_runner_without_the_agents_executable_gives_the_turn_back_once_and_a_node_that_has_it_runs_it()
    {
        _c = await RunnerCluster.StartAsync();
        // The executable exists only in a folder that only the second runner has on its PATH.
        var bin = Path.Combine(_c.Root, "agent-bin");
        Directory.CreateDirectory(bin);
        var exe = Path.Combine(bin, AgentExecutable);
        await File.WriteAllTextAsync(exe, $"#!/bin/sh\nexec '{DotnetHost}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(exe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var (_, token) = await _c.MintRunnerTokenAsync("box");
        var lacking = await _c.StartHttpRunnerAsync("runner-h", token);
        var team = await _c.CreateTeamAsync("platform");
        await PatchSettingsAsync(_c.Server, team, """{"require_review": false}""");
        var script = await ScriptAsync(Step("touch", new { path = "task-{task_id}.txt" }),
            Step("http", new { method = "POST", path = "/api/v1/tasks/{task_id}/request-review", body = new { summary = "done" } }));
        var agent = await AddAgentRunningAsync(team, AgentExecutable, new JsonArray(FakeAgentDll, "--script", script));
        var task = await AddReadyTaskAsync(_c.Server, team, agent, "Add the endpoint");

        await _c.WaitAsync(db => db.Turns.AnyAsync(t => t.AgentId == agent && t.State == TurnState.Lost),
            "the runner without the executable to give the turn back", TimeSpan.FromSeconds(120));
        // Until a node that has it comes up (seconds), the first runner keeps asking for work and must not take it again.
        var having = await _c.StartRunnerAsync("runner-p", path: bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"));
        await _c.WaitAsync(db => db.Tasks.AnyAsync(t => t.Id == task && t.Status == TaskState.Done),
            "the runner that has the executable to run the task", TimeSpan.FromSeconds(180));

        await using var db = Db(_c.Server);
        var turns = await db.Turns.AsNoTracking().Where(t => t.AgentId == agent).ToListAsync();
        var report = string.Join("; ", turns.Select(t => $"{t.Node} {t.State}: {t.Error}"));
        var given = turns.Where(t => t.Node == lacking.NodeId).ToList();
        given.Count.ShouldBe(1, "given back once, then not offered to that runner again: " + report);
        given[0].State.ShouldBe(TurnState.Lost);
        given[0].Error!.ShouldContain(AgentExecutable);
        turns.ShouldNotContain(t => t.State == TurnState.Failed, report);
        turns.Single(t => t.State == TurnState.Succeeded).Node.ShouldBe(having.NodeId);
        // Giving the turn back used up none of the work's attempts.
        (await db.DispatchRequests.Where(d => d.AgentId == agent).Select(d => d.Attempts).ToListAsync()).ShouldAllBe(a => a == 0);
    }

    [Fact]
    public async Task Cancelling_the_task_kills_the_http_runners_agent_process_tree_and_the_turn_ends_cancelled()
    {
        _c = await RunnerCluster.StartAsync();
        var (_, token) = await _c.MintRunnerTokenAsync("box");
        var runner = await _c.StartHttpRunnerAsync("runner-h", token);
        var team = await _c.CreateTeamAsync("platform");
        var gate = Path.Combine(_c.Root, "gate-never-opened");
        var parentPid = Path.Combine(_c.Root, "parent.pid");
        var childPid = Path.Combine(_c.Root, "child.pid");
        // A shell (the agent's process) that starts the fake agent as its child; the agent hangs on a gate the
        // test never opens, so only a kill of the whole tree ends both.
        var script = await ScriptAsync(Step("wait_file", new { path = gate }));
        var shell = $"echo $$ > '{parentPid}'; \"$0\" \"$1\" --script \"$2\" & echo $! > '{childPid}'; wait";
        var agent = await AddAgentRunningAsync(team, "/bin/sh", new JsonArray("-c", shell, DotnetHost, FakeAgentDll, script));
        var task = await AddReadyTaskAsync(_c.Server, team, agent, "Work that gets cancelled");
        static bool Written(string text) => text.EndsWith('\n');
        await FileEvents.WaitUntilAsync(parentPid, p => Written(FileEvents.ReadShared(p)), "the agent's shell to start", TimeSpan.FromSeconds(120));
        await FileEvents.WaitUntilAsync(childPid, p => Written(FileEvents.ReadShared(p)), "the agent's child to start", TimeSpan.FromSeconds(60));
        using var parent = ProcessExit.Watch(int.Parse(FileEvents.ReadShared(parentPid).Trim(), System.Globalization.CultureInfo.InvariantCulture));
        using var child = ProcessExit.Watch(int.Parse(FileEvents.ReadShared(childPid).Trim(), System.Globalization.CultureInfo.InvariantCulture));

        await _c.Server.PostJsonAsync($"/api/v1/tasks/{task}/status", """{"status": "cancelled"}""");

        // The runner hears of it on its next heartbeat and kills the tree: both end although the gate stays shut.
        await parent.WaitAsync(TimeSpan.FromSeconds(60));
        await child.WaitAsync(TimeSpan.FromSeconds(60));
        await _c.WaitAsync(db => db.Turns.AnyAsync(t => t.TaskId == task && t.State != TurnState.Running), "the turn to end", TimeSpan.FromSeconds(60));
        await using var db = Db(_c.Server);
        var turn = await db.Turns.AsNoTracking().SingleAsync(t => t.TaskId == task);
        turn.State.ShouldBe(TurnState.Cancelled, turn.Error);
        turn.Node.ShouldBe(runner.NodeId);
        File.Exists(gate).ShouldBeFalse();
        runner.Process.HasExited.ShouldBeFalse("the runner itself keeps running");
    }
}
