using Entourage.Client.Contracts;

namespace Entourage.Server.Dashboard.Data;

/// <summary>The task board's columns, by state; the most urgent work first in each.</summary>
public static class BoardColumns
{
    public sealed record Column(string Title, string Key, IReadOnlyList<TaskCard> Tasks);

    public static IReadOnlyList<Column> Build(IEnumerable<TaskCard> tasks, bool showClosed)
    {
        var list = tasks.ToList();
        static IReadOnlyList<TaskCard> Sort(IEnumerable<TaskCard> ts) =>
            ts.OrderByDescending(t => t.Priority).ThenBy(t => t.Id).ToList();
        var columns = new List<Column>
        {
            new("To do", "todo", Sort(list.Where(t => t.State == TaskState.Todo))),
            new("In progress", "in_progress", Sort(list.Where(t => t.State == TaskState.InProgress))),
            new("In review", "in_review", Sort(list.Where(t => t.State == TaskState.InReview))),
            new("Done", "done", list.Where(t => t.State == TaskState.Done).OrderByDescending(t => t.UpdatedAt).ToList()),
            new(showClosed ? "Failed / cancelled" : "Failed", "failed",
                Sort(list.Where(t => t.State == TaskState.Failed || (showClosed && t.State == TaskState.Cancelled)))),
        };
        return columns;
    }
}
