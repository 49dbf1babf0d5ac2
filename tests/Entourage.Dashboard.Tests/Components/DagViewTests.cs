using Bunit;
using Entourage.Client.Contracts;
using Entourage.Server.Dashboard.Dag;
using Entourage.Server.Dashboard.Data;

namespace Entourage.Dashboard.Tests.Components;

public sealed class DagViewTests : ComponentTestBase
{
    private static TaskCard Card(long id, TaskLook look, params long[] deps) =>
        new(id, $"Task {id}", TaskPriority.Medium, TaskType.Feature, look switch
        {
            TaskLook.Done => TaskState.Done,
            TaskLook.Running => TaskState.InProgress,
            TaskLook.Failed => TaskState.Failed,
            _ => TaskState.Todo,
        }, look, null, null, "eng-1", deps, null, DateTime.UtcNow);

    [Fact]
    public void Sugiyama_layers_put_every_dependency_above_its_dependents()
    {
        // A diamond plus a tail: 1 → {2, 3} → 4 → 5.
        var tasks = new[] { Card(1, TaskLook.Done), Card(2, TaskLook.Running, 1), Card(3, TaskLook.Ready, 1), Card(4, TaskLook.Waiting, 2, 3), Card(5, TaskLook.Waiting, 4) };
        var picture = DagLayout.Compute(tasks);
        var y = picture.Nodes.ToDictionary(n => n.Task.Id, n => n.Y);
        y[1].ShouldBeLessThan(y[2]);
        y[1].ShouldBeLessThan(y[3]);
        y[2].ShouldBeLessThan(y[4]);
        y[3].ShouldBeLessThan(y[4]);
        y[4].ShouldBeLessThan(y[5]);
        y[2].ShouldBe(y[3]);
        picture.Edges.Count.ShouldBe(5);
        // Nothing overlaps and everything is inside the canvas.
        foreach (var a in picture.Nodes)
        {
            a.X.ShouldBeGreaterThanOrEqualTo(0);
            (a.X + a.Width).ShouldBeLessThanOrEqualTo(picture.Width);
            foreach (var b in picture.Nodes.Where(b => b != a))
                (a.X + a.Width <= b.X || b.X + b.Width <= a.X || a.Y + a.Height <= b.Y || b.Y + b.Height <= a.Y).ShouldBeTrue($"#{a.Task.Id} overlaps #{b.Task.Id}");
        }
    }

    [Fact]
    public void Renders_one_linked_node_per_task_coloured_by_its_look_and_an_arrow_per_edge()
    {
        var cut = Render<DagView>(p => p.Add(x => x.Tasks, new[] { Card(1, TaskLook.Done), Card(2, TaskLook.Running, 1), Card(3, TaskLook.Blocked, 1) }));
        var nodes = cut.FindAll("a.dag-node");
        nodes.Count.ShouldBe(3);
        nodes.Select(n => n.GetAttribute("data-look")).ShouldBe(["done", "running", "blocked"], ignoreOrder: true);
        cut.Find("a.dag-node[data-task-id='2']").GetAttribute("href").ShouldBe("/tasks/2");
        cut.Find("a.dag-node[data-task-id='2']").ClassList.ShouldContain("running");
        cut.FindAll("path.dag-edge").Count.ShouldBe(2);
    }

    [Fact]
    public void Dependencies_outside_the_drawn_set_draw_no_dangling_edge()
    {
        var picture = DagLayout.Compute([Card(7, TaskLook.Waiting, 99)]);
        picture.Nodes.Count.ShouldBe(1);
        picture.Edges.ShouldBeEmpty();
    }

    [Fact]
    public void An_empty_graph_says_so() =>
        Render<DagView>(p => p.Add(x => x.Tasks, Array.Empty<TaskCard>())).Markup.ShouldContain("No tasks to draw yet");
}
