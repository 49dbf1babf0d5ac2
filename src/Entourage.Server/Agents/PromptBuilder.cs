using System.Text;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Agents;

/// <summary>
/// The prompt of one turn: the role prompt (the team's override or the default), the task being worked on, and
/// the new inbox items that woke the agent (messages, ready tasks, review verdicts, human answers, finished waits).
/// Items carry stable tags like <c>[message:12]</c> so agents (and tests) can tell exactly what they were given.
/// </summary>
public static class PromptBuilder
{
    public const string DefaultManagerPrompt = """
        You are the manager of an Entourage team of coding agents. Break features into small, well-scoped tasks
        with create_tasks_batch (wire dependencies with depends_on), check capacity with list_team_agents before
        assigning, give engineers context with send_message, and use wait_for_task_completion to wait for
        sub-tasks. Never write code yourself: delegate all implementation to engineers. When every sub-task of a
        feature is done, summarise the result and mark the feature done with update_task_status.
        """;

    public const string DefaultEngineerPrompt = """
        You are an engineer on an Entourage team of coding agents. Work only on your assigned task, inside this git
        worktree (your own branch). Write code, tests and documentation; commit on your branch. Read new messages
        with get_inbox. If something is ambiguous, call ask_human instead of guessing. When the work is complete,
        call request_review (or update_task_status to done when the team does not require review). Report token
        usage with report_progress and respect the team's budget (get_budget).
        """;

    public static async Task<string> BuildAsync(AppDbContext db, Agent agent, Team team, TaskItem? task, IReadOnlyList<DispatchRequest> requests, CancellationToken ct)
    {
        var sb = new StringBuilder();
        var role = agent.Role == AgentRole.Manager ? team.ManagerPrompt ?? DefaultManagerPrompt : team.EngineerPrompt ?? DefaultEngineerPrompt;
        sb.AppendLine(role.Trim()).AppendLine();
        sb.AppendLine($"You are '{agent.Name}' ({Storage.EnumNames.ToSnake(agent.Role)}) on team '{team.Name}'. Use the Entourage MCP tools to read and change tasks and messages.");
        if (task is not null)
        {
            sb.AppendLine().AppendLine($"## Current task [task:{task.Id}] {task.Title}");
            sb.AppendLine($"Status: {Storage.EnumNames.ToSnake(task.Status)}; priority: {Storage.EnumNames.ToSnake(task.Priority)}; type: {Storage.EnumNames.ToSnake(task.TaskType)}.");
            if (task.Branch is not null) sb.AppendLine($"Branch: {task.Branch}");
            if (!string.IsNullOrWhiteSpace(task.Description)) sb.AppendLine().AppendLine(task.Description.Trim());
        }

        var messageIds = requests.Where(r => r.Reason == DispatchReason.Message && long.TryParse(r.Ref, out _)).Select(r => long.Parse(r.Ref!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var messages = messageIds.Count == 0 ? [] : await db.Messages.AsNoTracking().Where(m => messageIds.Contains(m.Id)).OrderBy(m => m.Id).ToListAsync(ct);
        var senderIds = messages.Where(m => m.SenderId is not null).Select(m => m.SenderId!.Value).Distinct().ToList();
        var senders = await db.Agents.AsNoTracking().Where(a => senderIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);

        sb.AppendLine().AppendLine("## New since your last turn");
        foreach (var m in messages)
        {
            var from = m.SenderId is { } s && senders.TryGetValue(s, out var n) ? n : m.SenderName ?? "a person";
            sb.AppendLine($"- [message:{m.Id}] from {from}{(m.TaskId is { } t ? $" about task {t}" : "")}: {m.Body}");
        }
        foreach (var r in requests.Where(r => r.Reason != DispatchReason.Message || !messageIds.Contains(long.TryParse(r.Ref, out var id) ? id : -1)))
        {
            var what = r.Reason switch
            {
                DispatchReason.TaskReady => r.TaskId == task?.Id ? "this task is ready: every dependency is done; start working on it" : "a task is ready for you (or needs an assignee)",
                DispatchReason.Review => "a review verdict arrived; read it with get_review_feedback",
                DispatchReason.HumanAnswer => "a person answered your question" + (r.Ref is { } a ? $": {a}" : ""),
                DispatchReason.WaitComplete => "all tasks you were waiting on reached a final state; check them with list_tasks or get_task",
                DispatchReason.Message => "a new message; read it with get_inbox",
                _ => "you were woken" + (r.Ref is { } w ? $": {w}" : ""),
            };
            sb.AppendLine($"- [{Storage.EnumNames.ToSnake(r.Reason)}:{r.Id}]{(r.TaskId is { } t ? $" [task:{t}]" : "")} {what}");
        }
        return sb.ToString();
    }
}
