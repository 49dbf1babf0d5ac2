using Entourage.Client.Contracts;
using Entourage.Server.Dashboard.Data;
using static Entourage.Server.Dashboard.Data.TaskLooks;

namespace Entourage.Dashboard.Tests.Components;

public sealed class TaskLooksTests
{
    [Fact]
    public void Todo_with_all_dependencies_done_and_an_assignee_is_ready()
    {
        var (look, why) = Classify(TaskState.Todo, hasAssignee: true, turnRunning: false, [new Dep(1, TaskState.Done)]);
        look.ShouldBe(TaskLook.Ready);
        why.ShouldBeNull();
    }

    [Fact]
    public void Todo_waiting_on_open_dependencies_names_them()
    {
        var (look, why) = Classify(TaskState.Todo, true, false, [new Dep(2, TaskState.InProgress), new Dep(3, TaskState.Todo), new Dep(4, TaskState.Done)]);
        look.ShouldBe(TaskLook.Waiting);
        why.ShouldBe("waiting for #2, #3");
    }

    [Fact]
    public void A_failed_dependency_blocks_even_when_others_are_open()
    {
        var (look, why) = Classify(TaskState.Todo, true, false, [new Dep(2, TaskState.InProgress), new Dep(5, TaskState.Failed), new Dep(6, TaskState.Cancelled)]);
        look.ShouldBe(TaskLook.Blocked);
        why.ShouldBe("blocked by failed #5, #6");
    }

    [Fact]
    public void Ready_without_assignee_goes_to_the_manager()
    {
        var (look, why) = Classify(TaskState.Todo, hasAssignee: false, false, []);
        look.ShouldBe(TaskLook.Unassigned);
        why!.ShouldContain("manager");
    }

    [Theory]
    [InlineData(TaskState.InProgress, TaskLook.Running)]
    [InlineData(TaskState.InReview, TaskLook.InReview)]
    [InlineData(TaskState.Done, TaskLook.Done)]
    [InlineData(TaskState.Failed, TaskLook.Failed)]
    [InlineData(TaskState.Cancelled, TaskLook.Cancelled)]
    public void Non_todo_states_map_directly_whatever_the_dependencies(TaskState state, TaskLook expected) =>
        Classify(state, true, true, [new Dep(9, TaskState.Failed)]).Look.ShouldBe(expected);

    [Fact]
    public void A_failed_task_says_why() =>
        Classify(TaskState.Failed, true, false, [], "agent gave up: tests keep failing").Why.ShouldBe("agent gave up: tests keep failing");

    [Fact]
    public void Board_puts_urgent_work_first_and_hides_cancelled_unless_asked()
    {
        TaskCard Card(long id, TaskState s, TaskPriority p) => new(id, "t" + id, p, TaskType.Feature, s, TaskLook.Ready, null, null, null, [], null, DateTime.UtcNow);
        var tasks = new[]
        {
            Card(1, TaskState.Todo, TaskPriority.Low), Card(2, TaskState.Todo, TaskPriority.Critical),
            Card(3, TaskState.Cancelled, TaskPriority.High), Card(4, TaskState.Failed, TaskPriority.Low),
        };
        var cols = BoardColumns.Build(tasks, showClosed: false);
        cols[0].Tasks.Select(t => t.Id).ShouldBe([2L, 1L]);
        cols[4].Tasks.Select(t => t.Id).ShouldBe([4L]);
        BoardColumns.Build(tasks, showClosed: true)[4].Tasks.Select(t => t.Id).ShouldBe([3L, 4L]);
    }

    [Theory]
    [InlineData(0, "$0.00")]
    [InlineData(0.004, "$0.0040")]
    [InlineData(12.345, "$12.35")]
    public void Money_keeps_small_costs_visible(double usd, string text) => Money.Format(usd).ShouldBe(text);
}

public sealed class TimelineDataTests
{
    [Fact]
    public void Shows_readable_fields_and_drops_ids_and_empties()
    {
        var fields = TimelineData.Fields("""{"assignee_id":"0190","assignee_name":"eng-backend","depends_on":[],"parent_id":null,"reason":"tests keep failing","count":3}""");
        fields.ShouldBe([("assignee_name", "eng-backend"), ("reason", "tests keep failing"), ("count", "3")]);
    }

    [Fact]
    public void Non_object_or_broken_data_is_shown_as_is()
    {
        TimelineData.Fields("not json").ShouldBe([("data", "not json")]);
        TimelineData.Fields(null).ShouldBeEmpty();
    }
}
