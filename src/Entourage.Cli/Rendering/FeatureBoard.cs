using System.Globalization;
using Entourage.Cli.Commands.Run;
using Entourage.Client.Contracts;
using Spectre.Console.Rendering;

namespace Entourage.Cli.Rendering;

/// <summary>The live view of `entourage run`: the feature, its DAG in dependency order, who runs what, and costs.</summary>
public static class FeatureBoard
{
    public static IRenderable Render(FeatureSnapshot s, TimeSpan elapsed, string mode)
    {
        var f = s.Feature;
        var done = s.Plan.Count(t => t.Status == TaskState.Done);
        var header = $"[bold]Feature #{f.Id}[/] {Styles.Esc(f.Title)}  {Styles.TaskIcon(f.Status)} {Styles.TaskState(f.Status)}" +
            $"  [dim]|[/]  {done}/{s.Plan.Count} tasks done" +
            (s.TotalCost is { } cost ? $"  [dim]|[/]  {Styles.Money(cost)}" : "") +
            $"  [dim]|[/]  {elapsed:hh\\:mm\\:ss}";

        var table = new Table().Border(TableBorder.Rounded).Expand()
            .AddColumn("#").AddColumn("Task").AddColumn("State").AddColumn("Agent").AddColumn("Depends on").AddColumn(new TableColumn("Cost").RightAligned());
        if (s.Plan.Count == 0)
        {
            var who = s.Agents.FirstOrDefault(a => a.Role == AgentRole.Manager);
            table.AddRow("", $"[dim]waiting for {Styles.Esc(who?.Name ?? "the manager")} to plan the work…[/]", "", "", "", "");
        }
        foreach (var (t, depth) in s.Ordered())
            table.AddRow(
                t.Id.ToString(CultureInfo.InvariantCulture),
                new string(' ', depth * 2) + (depth > 0 ? "└ " : "") + Styles.Esc(t.Title),
                $"{Styles.TaskIcon(t.Status)} {Styles.TaskState(t.Status)}",
                Styles.Esc(t.AssigneeName ?? "–"),
                t.DependsOn.Count == 0 ? "" : TaskViews.Ids(t.DependsOn) + (t.BlockedByFailed.Count > 0 ? " [red](failed)[/]" : ""),
                s.CostByTask.TryGetValue(t.Id, out var c) ? Styles.Money(c) : "");

        var agents = string.Join("   ", s.Agents.Select(a =>
            $"{Styles.Esc(a.Name)} {Styles.AgentStatus(a.Status)}" + (a.CurrentTaskId is { } id ? $" [dim]#{id}[/]" : "")));
        var footer = s.Finished
            ? (f.Status == TaskState.Done ? "[green]Feature done.[/]" : $"[red]Feature {f.Status.Snake()}.[/] {Styles.Esc(f.FailureReason ?? "")}")
            : $"[dim]Ctrl-C detaches (the team keeps working) · live updates: {Styles.Esc(mode)}[/]";
        return new Rows(new Markup(header), table, new Markup("Agents: " + agents), new Markup(footer));
    }
}
