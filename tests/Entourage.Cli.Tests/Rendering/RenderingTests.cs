using System.Text.Json.Nodes;
using Entourage.Cli.Commands.Run;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;
using Spectre.Console.Testing;

namespace Entourage.Cli.Tests.Rendering;

/// <summary>What the views draw, on Spectre's TestConsole, from hand-made DTOs (no server needed).</summary>
public sealed class RenderingTests
{
    private static readonly Guid Team = Guid.NewGuid();

    private static AgentDto Agent(string name, AgentRole role, string description, AgentStatus status = AgentStatus.Idle, long? current = null) =>
        new(Guid.NewGuid(), Team, name, role, "claude-sonnet-4-20250514", "claude-code", new JsonObject { ["description"] = description },
            status, null, current is null ? 0 : 1, current, DateTime.UtcNow);

    private static TaskDto Task(long id, string title, TaskState state, string? assignee, long? parent, params long[] deps) =>
        new(id, Team, parent, title, "", TaskPriority.High, TaskType.Feature, state, assignee is null ? null : Guid.NewGuid(), assignee,
            deps, [], false, state == TaskState.Todo ? deps : [], [], 0, null, null, null, null, DateTime.UtcNow, DateTime.UtcNow, null, null, 1);

    private static string Draw(Spectre.Console.Rendering.IRenderable r)
    {
        var console = new TestConsole().Width(140);
        console.Write(r);
        return console.Output;
    }

    [Fact]
    public void Team_tree_is_the_spec_picture()
    {
        var agents = new[]
        {
            Agent("eng-backend", AgentRole.Engineer, "Python, FastAPI, database work", AgentStatus.Busy),
            Agent("manager", AgentRole.Manager, "Decomposes features, coordinates"),
            Agent("eng-frontend", AgentRole.Engineer, "React, TypeScript, UI work"),
        };
        var team = new TeamDto(Team, Guid.NewGuid(), "Platform", "platform", null, null, "main", DateTime.UtcNow, agents[1], agents);
        var text = Draw(TeamViews.Tree(team));
        var lines = text.Split('\n');
        lines[0].ShouldBe("Platform (team)");
        lines[1].ShouldStartWith("├── manager       — Decomposes features, coordinates");
        lines[2].ShouldStartWith("├── eng-backend   — Python, FastAPI, database work");
        lines[2].ShouldContain("busy");
        lines[3].ShouldStartWith("└── eng-frontend  — React, TypeScript, UI work");
    }

    [Fact]
    public void Feature_board_orders_the_dag_by_depth_and_shows_who_runs_what()
    {
        var feature = Task(1, "Add user notification system", TaskState.InProgress, null, null);
        var plan = new[]
        {
            Task(4, "Write integration tests", TaskState.Todo, "eng-backend", 1, 2, 3),
            Task(3, "Add notification bell to navbar", TaskState.InProgress, "eng-frontend", 1, 2),
            Task(2, "Build notification API endpoints", TaskState.Done, "eng-backend", 1),
        };
        var agents = new[] { Agent("manager", AgentRole.Manager, "m"), Agent("eng-frontend", AgentRole.Engineer, "f", AgentStatus.Busy, 3) };
        var snapshot = new FeatureSnapshot(feature, plan, agents, 1.5m, new Dictionary<long, decimal> { [2] = 1.25m, [3] = 0.25m });
        var text = Draw(FeatureBoard.Render(snapshot, TimeSpan.FromSeconds(75), "events"));

        text.ShouldContain("Feature #1 Add user notification system");
        text.ShouldContain("1/3 tasks done");
        text.ShouldContain("$1.50");
        text.ShouldContain("00:01:15");
        text.IndexOf("Build notification API", StringComparison.Ordinal).ShouldBeLessThan(text.IndexOf("Add notification bell", StringComparison.Ordinal));
        text.IndexOf("Add notification bell", StringComparison.Ordinal).ShouldBeLessThan(text.IndexOf("Write integration tests", StringComparison.Ordinal));
        text.Split('\n').Single(l => l.Contains("Write integration tests")).ShouldContain("#2, #3");
        text.Split('\n').Single(l => l.Contains("Build notification API")).ShouldContain("$1.25");
        text.ShouldContain("eng-frontend busy #3");
        text.ShouldContain("live updates: events");
    }

    [Fact]
    public void Plan_includes_descendants_and_the_managers_unparented_tasks_only()
    {
        var manager = Guid.NewGuid();
        var feature = Task(5, "Feature", TaskState.InProgress, null, null);
        var child = Task(6, "child", TaskState.Todo, null, 5);
        var grandchild = Task(7, "grandchild", TaskState.Todo, null, 6);
        var orphanByManager = Task(8, "forgot parent_id", TaskState.Todo, null, null) with { CreatedByAgentId = manager };
        var someoneElses = Task(9, "unrelated", TaskState.Todo, null, null);
        var older = Task(4, "older", TaskState.Todo, null, null) with { CreatedByAgentId = manager };
        var plan = FeatureReader.PlanOf(feature, [older, feature, child, grandchild, orphanByManager, someoneElses], manager);
        plan.Select(t => t.Id).ShouldBe([6L, 7L, 8L]);
    }

    [Fact]
    public void A_finished_feature_still_has_running_turns_while_an_agent_is_busy_on_its_plan()
    {
        var feature = Task(5, "Feature", TaskState.Done, null, null);
        var child = Task(6, "child", TaskState.Done, "eng", 5);
        FeatureSnapshot With(params AgentDto[] agents) => new(feature, [child], agents, 0m, new Dictionary<long, decimal>());

        // The engineer marked task 6 done from inside its turn: its cost lands when that turn ends.
        With(Agent("eng", AgentRole.Engineer, "", AgentStatus.Busy, 6)).TurnsStillRunning.ShouldBeTrue();
        With(Agent("mgr", AgentRole.Manager, "", AgentStatus.Busy, 5)).TurnsStillRunning.ShouldBeTrue();
        With(Agent("eng", AgentRole.Engineer, "", AgentStatus.Busy, 42)).TurnsStillRunning.ShouldBeFalse();
        With(Agent("eng", AgentRole.Engineer, "", AgentStatus.Idle)).TurnsStillRunning.ShouldBeFalse();
    }
}
