using Entourage.Client.Contracts;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Entourage.Cli.Rendering;

/// <summary>Teams and agents as the spec draws them: "Platform (team) ├── manager — Decomposes features…".</summary>
public static class TeamViews
{
    public static string Description(AgentDto agent) =>
        agent.Config["description"] is { } d && d.GetValueKind() == System.Text.Json.JsonValueKind.String ? d.GetValue<string>() : "";

    public static IRenderable Tree(TeamDto team)
    {
        var tree = new Tree($"[bold]{Styles.Esc(team.Name)}[/] (team)");
        var agents = (team.Agents ?? (team.Manager is null ? [] : [team.Manager]))
            .OrderBy(a => a.Role == AgentRole.Manager ? 0 : 1).ToList();
        var width = agents.Count == 0 ? 0 : agents.Max(a => a.Name.Length);
        foreach (var a in agents)
        {
            var description = Description(a);
            var line = $"{Styles.Esc(a.Name.PadRight(width))}  {(description.Length > 0 ? "— " + Styles.Esc(description) : "[dim](no description)[/]")}  [dim]{a.Role.Snake()}, {Styles.Esc(a.Adapter)}[/] {Styles.AgentStatus(a.Status)}";
            tree.AddNode(line);
        }
        return tree;
    }

    public static IRenderable Summary(TeamDto team)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow("[dim]id[/]", team.Id.ToString());
        grid.AddRow("[dim]slug[/]", Styles.Esc(team.Slug));
        if (!string.IsNullOrEmpty(team.Description)) grid.AddRow("[dim]description[/]", Styles.Esc(team.Description));
        grid.AddRow("[dim]repository[/]", team.RepoPath is null ? "[dim](none: set one with `entourage team update --repo`)[/]" : Styles.Esc(team.RepoPath));
        grid.AddRow("[dim]base branch[/]", Styles.Esc(team.BaseBranch));
        return grid;
    }

    public static Table TeamTable(IEnumerable<TeamDto> teams)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Slug", "Name", "Agents", "Repository", "Base", "Id");
        foreach (var t in teams)
            table.AddRow(Styles.Esc(t.Slug), Styles.Esc(t.Name), (t.Agents?.Count ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
                Styles.Esc(t.RepoPath ?? "–"), Styles.Esc(t.BaseBranch), $"[dim]{t.Id}[/]");
        return table;
    }

    public static Table AgentTable(IEnumerable<AgentDto> agents)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Name", "Role", "Status", "Tasks", "Adapter", "Model", "Description", "Id");
        foreach (var a in agents)
            table.AddRow(Styles.Esc(a.Name), a.Role.Snake(), Styles.AgentStatus(a.Status) + (a.StatusReason is null ? "" : $" [dim]{Styles.Esc(a.StatusReason)}[/]"),
                a.ActiveTaskCount.ToString(System.Globalization.CultureInfo.InvariantCulture), Styles.Esc(a.Adapter), Styles.Esc(a.Model ?? "–"),
                Styles.Esc(Description(a)), $"[dim]{a.Id}[/]");
        return table;
    }

    public static IRenderable AgentDetails(AgentDto a)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow("[dim]name[/]", $"[bold]{Styles.Esc(a.Name)}[/]");
        grid.AddRow("[dim]id[/]", a.Id.ToString());
        grid.AddRow("[dim]team[/]", a.TeamId.ToString());
        grid.AddRow("[dim]role[/]", a.Role.Snake());
        grid.AddRow("[dim]status[/]", Styles.AgentStatus(a.Status) + (a.StatusReason is null ? "" : " " + Styles.Esc(a.StatusReason)));
        grid.AddRow("[dim]active tasks[/]", a.ActiveTaskCount.ToString(System.Globalization.CultureInfo.InvariantCulture) + (a.CurrentTaskId is { } t ? $" (working on #{t})" : ""));
        grid.AddRow("[dim]adapter[/]", Styles.Esc(a.Adapter));
        grid.AddRow("[dim]model[/]", Styles.Esc(a.Model ?? "–"));
        grid.AddRow("[dim]config[/]", Styles.Esc(a.Config.ToJsonString()));
        grid.AddRow("[dim]created[/]", Styles.Time(a.CreatedAt));
        return grid;
    }
}
