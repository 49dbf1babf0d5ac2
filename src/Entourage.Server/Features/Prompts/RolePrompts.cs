using System.Text;
using System.Text.RegularExpressions;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using Entourage.Server.Storage.Entities;

namespace Entourage.Server.Features.Prompts;

/// <summary>
/// Renders the role prompt an agent's turn starts with: the team's override for the role, or the default, with
/// its {{placeholders}} filled in. The dispatcher prepends it to the task and the new inbox items.
/// </summary>
public static partial class RolePrompts
{
    public const int MaxTemplateLength = 32 * 1024;

    /// <summary>Every placeholder a template may use, with what it becomes.</summary>
    public static readonly IReadOnlyDictionary<string, string> Placeholders = new Dictionary<string, string>
    {
        ["agent_name"] = "the agent's name, e.g. eng-backend",
        ["agent_role"] = "manager, engineer or reviewer",
        ["agent_description"] = "config.description of the agent",
        ["agent_id"] = "the agent's uuid",
        ["team_name"] = "the team's name",
        ["team_id"] = "the team's uuid",
        ["base_branch"] = "the team's base branch, e.g. main",
        ["task_id"] = "the current task's id (empty without a task)",
        ["task_title"] = "the current task's title",
        ["task_description"] = "the current task's description",
        ["branch"] = "the task's git branch (empty before it has one)",
        ["worktree"] = "the task's worktree path",
        ["task_section"] = "a ready-made \"Your task\" block (empty without a task)",
    };

    public static string DefaultFor(AgentRole role) => role switch
    {
        AgentRole.Manager => DefaultPrompts.Manager,
        AgentRole.Reviewer => DefaultPrompts.Reviewer,
        _ => DefaultPrompts.Engineer,
    };

    /// <summary>The team's own template for a role, or null when it uses the default.</summary>
    public static string? OverrideFor(Team team, AgentRole role) => role switch
    {
        AgentRole.Manager => team.ManagerPrompt,
        AgentRole.Engineer => team.EngineerPrompt,
        _ => null,
    };

    public static string TemplateFor(Team team, AgentRole role) => OverrideFor(team, role) ?? DefaultFor(role);

    /// <summary>The prompt for <paramref name="agent"/> working on <paramref name="task"/> (null: no task yet).</summary>
    public static string Render(Team team, Agent agent, TaskItem? task)
    {
        ArgumentNullException.ThrowIfNull(team);
        ArgumentNullException.ThrowIfNull(agent);
        var values = Values(team, agent, task);
        var text = PlaceholderPattern().Replace(TemplateFor(team, agent.Role), m =>
            values.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value);
        return text.Trim() + "\n";
    }

    /// <summary>Placeholders used in <paramref name="template"/> that do not exist (typos would render literally).</summary>
    public static IReadOnlyList<string> UnknownPlaceholders(string template) =>
        PlaceholderPattern().Matches(template).Select(m => m.Groups[1].Value)
            .Where(n => !Placeholders.ContainsKey(n)).Distinct().ToList();

    private static Dictionary<string, string> Values(Team team, Agent agent, TaskItem? task)
    {
        var description = AgentViews.ParseConfig(agent.ConfigJson)["description"]?.GetValue<string>();
        return new Dictionary<string, string>
        {
            ["agent_name"] = agent.Name,
            ["agent_role"] = Storage.EnumNames.ToSnake(agent.Role),
            ["agent_description"] = string.IsNullOrWhiteSpace(description) ? "general" : description,
            ["agent_id"] = agent.Id.ToString(),
            ["team_name"] = team.Name,
            ["team_id"] = team.Id.ToString(),
            ["base_branch"] = team.BaseBranch,
            ["task_id"] = task?.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "",
            ["task_title"] = task?.Title ?? "",
            ["task_description"] = task?.Description ?? "",
            ["branch"] = task?.Branch ?? "(created when you start the task)",
            ["worktree"] = task?.WorktreePath ?? "",
            ["task_section"] = TaskSection(task),
        };
    }

    private static string TaskSection(TaskItem? task)
    {
        if (task is null) return "";
        var sb = new StringBuilder();
        sb.Append("Your task: #").Append(task.Id).Append(' ').Append(task.Title).AppendLine();
        sb.Append("Priority: ").Append(Storage.EnumNames.ToSnake(task.Priority))
          .Append(", type: ").Append(Storage.EnumNames.ToSnake(task.TaskType))
          .Append(", status: ").Append(Storage.EnumNames.ToSnake(task.Status)).AppendLine();
        if (!string.IsNullOrWhiteSpace(task.Description)) sb.AppendLine().AppendLine(task.Description.Trim());
        return sb.ToString().TrimEnd();
    }

    [GeneratedRegex(@"\{\{\s*([a-z_]+)\s*\}\}")]
    private static partial Regex PlaceholderPattern();
}
