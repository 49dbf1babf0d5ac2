using System.Text;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Prompts;
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
    public static async Task<string> BuildAsync(AppDbContext db, Agent agent, Team team, TaskItem? task, IReadOnlyList<DispatchRequest> requests, CancellationToken ct)
    {
        var sb = new StringBuilder();
        sb.AppendLine(RolePrompts.Render(team, agent, task).Trim());
        // The role template already carries the task ({{task_section}}); this tag lets tools and tests find it.
        if (task is not null) sb.AppendLine().AppendLine($"Current task: [task:{task.Id}]");

        // Review verdicts, merge results and human answers arrive as messages too (issue #6): their requests
        // reference the message, whose text (the quoted review comments, the answer) belongs in the prompt.
        var messageIds = requests.Where(r => CarriesMessage(r.Reason) && long.TryParse(r.Ref, out _)).Select(r => long.Parse(r.Ref!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var messages = messageIds.Count == 0 ? [] : await db.Messages.AsNoTracking().Where(m => messageIds.Contains(m.Id)).OrderBy(m => m.Id).ToListAsync(ct);
        var senderIds = messages.Where(m => m.SenderId is not null).Select(m => m.SenderId!.Value).Distinct().ToList();
        var senders = await db.Agents.AsNoTracking().Where(a => senderIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);

        sb.AppendLine().AppendLine("## New since your last turn");
        foreach (var m in messages)
        {
            var from = m.SenderId is { } s && senders.TryGetValue(s, out var n) ? n : m.SenderName ?? "a person";
            sb.AppendLine($"- [message:{m.Id}] from {from}{(m.TaskId is { } t ? $" about task {t}" : "")}: {m.Body}");
        }
        foreach (var r in requests.Where(r => !CarriesMessage(r.Reason) || !messageIds.Contains(long.TryParse(r.Ref, out var id) ? id : -1)))
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

    private static bool CarriesMessage(DispatchReason reason) => reason is DispatchReason.Message or DispatchReason.Review or DispatchReason.HumanAnswer;
}
