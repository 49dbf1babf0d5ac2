using System.Globalization;
using Entourage.Client.Contracts;
using Spectre.Console.Rendering;

namespace Entourage.Cli.Rendering;

/// <summary>Tasks as tables, a detail card and a timeline.</summary>
public static class TaskViews
{
    public static string Ids(IEnumerable<long> ids) => string.Join(", ", ids.Select(i => "#" + i.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Why a todo task is not running: what it waits for, or that nobody has it.</summary>
    public static string Waiting(TaskDto t) => t switch
    {
        { BlockedByFailed.Count: > 0 } => $"[red]blocked by failed {Ids(t.BlockedByFailed)}[/]",
        { Status: TaskState.Todo, BlockedBy.Count: > 0 } => $"[dim]waits for {Ids(t.BlockedBy)}[/]",
        { Status: TaskState.Todo, AssigneeId: null } => "[dim]unassigned[/]",
        { Ready: true } => "[green]ready[/]",
        { Status: TaskState.Failed, FailureReason: { } reason } => $"[red]{Styles.Esc(reason)}[/]",
        _ => "",
    };

    public static Table Table(IEnumerable<TaskDto> tasks)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("#", "Title", "Status", "Priority", "Assignee", "Depends on", "");
        foreach (var t in tasks)
            table.AddRow(t.Id.ToString(CultureInfo.InvariantCulture), Styles.Esc(t.Title), Styles.TaskState(t.Status), t.Priority.Snake(),
                Styles.Esc(t.AssigneeName ?? "–"), Ids(t.DependsOn), Waiting(t));
        return table;
    }

    public static IRenderable Details(TaskDto t)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow("[dim]task[/]", $"[bold]#{t.Id} {Styles.Esc(t.Title)}[/]");
        grid.AddRow("[dim]status[/]", Styles.TaskState(t.Status) + (Waiting(t) is { Length: > 0 } w ? "  " + w : ""));
        grid.AddRow("[dim]priority / type[/]", $"{t.Priority.Snake()} / {t.TaskType.Snake()}");
        grid.AddRow("[dim]assignee[/]", Styles.Esc(t.AssigneeName ?? "–"));
        if (t.ParentId is { } parent) grid.AddRow("[dim]parent[/]", "#" + parent.ToString(CultureInfo.InvariantCulture));
        grid.AddRow("[dim]depends on[/]", t.DependsOn.Count == 0 ? "–" : Ids(t.DependsOn));
        grid.AddRow("[dim]dependents[/]", t.Dependents.Count == 0 ? "–" : Ids(t.Dependents));
        if (t.Branch is not null) grid.AddRow("[dim]branch[/]", Styles.Esc(t.Branch));
        if (t.WorktreePath is not null) grid.AddRow("[dim]worktree[/]", Styles.Esc(t.WorktreePath));
        if (t.Attempts > 0) grid.AddRow("[dim]attempts[/]", t.Attempts.ToString(CultureInfo.InvariantCulture));
        if (t.FailureReason is not null) grid.AddRow("[dim]failure[/]", $"[red]{Styles.Esc(t.FailureReason)}[/]");
        grid.AddRow("[dim]created[/]", Styles.Time(t.CreatedAt));
        if (t.StartedAt is { } s) grid.AddRow("[dim]started[/]", Styles.Time(s));
        if (t.CompletedAt is { } c) grid.AddRow("[dim]completed[/]", Styles.Time(c));
        if (!string.IsNullOrWhiteSpace(t.Description)) grid.AddRow("[dim]description[/]", Styles.Esc(t.Description));
        return grid;
    }

    public static string Describe(TaskEventDto e)
    {
        var text = e.Kind switch
        {
            "status_changed" => $"{Styles.Esc(e.FromStatus)} → [bold]{Styles.Esc(e.ToStatus)}[/]",
            _ => Styles.Esc(e.Kind.Replace('_', ' ')),
        };
        if (e.Data is System.Text.Json.Nodes.JsonObject data && data.Count > 0)
            text += " [dim]" + Styles.Esc(Summarize(data)) + "[/]";
        return text;
    }

    private static string Summarize(System.Text.Json.Nodes.JsonObject data)
    {
        var parts = data.Where(p => p.Value is not null and not System.Text.Json.Nodes.JsonObject and not System.Text.Json.Nodes.JsonArray)
            .Select(p => $"{p.Key}={p.Value}");
        var s = string.Join(" ", parts);
        return s.Length > 160 ? s[..157] + "..." : s;
    }

    public static Table Timeline(IEnumerable<TaskEventDto> events)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Time", "Actor", "Event");
        foreach (var e in events)
            table.AddRow(Styles.Time(e.CreatedAt), $"{Styles.Esc(e.Actor.Name)} [dim]({e.Actor.Type.Snake()})[/]", Describe(e));
        return table;
    }
}
