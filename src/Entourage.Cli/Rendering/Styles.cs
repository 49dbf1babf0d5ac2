using Entourage.Client.Contracts;
using Spectre.Console;

namespace Entourage.Cli.Rendering;

/// <summary>One colour per state, shared by every table, tree and live view.</summary>
public static class Styles
{
    public static string Snake(this Enum value) =>
        System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public static string TaskState(TaskState state) => state switch
    {
        Client.Contracts.TaskState.Todo => $"[grey]{state.Snake()}[/]",
        Client.Contracts.TaskState.InProgress => $"[yellow]{state.Snake()}[/]",
        Client.Contracts.TaskState.InReview => $"[blue]{state.Snake()}[/]",
        Client.Contracts.TaskState.Done => $"[green]{state.Snake()}[/]",
        Client.Contracts.TaskState.Failed => $"[red]{state.Snake()}[/]",
        _ => $"[dim]{state.Snake()}[/]",
    };

    public static string TaskIcon(TaskState state) => state switch
    {
        Client.Contracts.TaskState.Todo => "[grey]○[/]",
        Client.Contracts.TaskState.InProgress => "[yellow]●[/]",
        Client.Contracts.TaskState.InReview => "[blue]◐[/]",
        Client.Contracts.TaskState.Done => "[green]✔[/]",
        Client.Contracts.TaskState.Failed => "[red]✘[/]",
        _ => "[dim]–[/]",
    };

    public static string AgentStatus(AgentStatus status) => status switch
    {
        Client.Contracts.AgentStatus.Busy => "[yellow]busy[/]",
        Client.Contracts.AgentStatus.Offline => "[red]offline[/]",
        _ => "[green]idle[/]",
    };

    public static string Esc(string? text) => Markup.Escape(text ?? "");

    public static string Money(decimal usd) => usd.ToString("$0.00##", System.Globalization.CultureInfo.InvariantCulture);

    public static string Time(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
