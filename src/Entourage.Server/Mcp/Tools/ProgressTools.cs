using System.ComponentModel;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using ModelContextProtocol.Server;

namespace Entourage.Server.Mcp.Tools;

[McpServerToolType]
public sealed class ProgressTools
{
    public const int MaxNote = 4000;

    public sealed record ProgressView(long TaskId, long EventId, string Note, int? Percent, bool UsageRecorded);

    [McpServerTool(Name = "report_progress")]
    [Description("Records a progress note on your task's timeline, so the manager and people see where a long task stands " +
                 "(e.g. \"migration written, tests next\"). Optionally reports model usage that your runtime does not report " +
                 "itself (Claude Code and Codex already do: leave the usage fields out then). Check get_budget on long tasks.")]
    public static async Task<ProgressView> ReportProgress(McpCaller caller, AppDbContext db, TimeProvider clock,
        [Description("What is done and what is next, in a sentence or two.")] string note,
        [Description("The task (defaults to your one active task).")] long? task_id = null,
        [Description("Rough completion, 0 to 100.")] int? percent = null,
        [Description("Input tokens used since the last report (only if not reported by your runtime).")] long? input_tokens = null,
        [Description("Output tokens used since the last report.")] long? output_tokens = null,
        [Description("Cost in USD since the last report.")] double? cost_usd = null,
        CancellationToken ct = default)
    {
        var errors = new ValidationErrors();
        if (string.IsNullOrWhiteSpace(note)) errors.Add("note", "Required: what is done and what is next.");
        else if (note.Length > MaxNote) errors.Add("note", $"At most {MaxNote} characters.");
        if (percent is < 0 or > 100) errors.Add("percent", "Between 0 and 100.");
        if (input_tokens is < 0) errors.Add("input_tokens", "Must not be negative.");
        if (output_tokens is < 0) errors.Add("output_tokens", "Must not be negative.");
        if (cost_usd is < 0 or > 10_000 || (cost_usd is { } c && double.IsNaN(c))) errors.Add("cost_usd", "Between 0 and 10000.");
        errors.ThrowIfAny();
        var id = await caller.ResolveTaskAsync(db, task_id, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var usage = input_tokens is > 0 || output_tokens is > 0 || cost_usd is > 0;
        if (usage)
        {
            db.UsageRecords.Add(new UsageRecord
            {
                TeamId = caller.TeamId, AgentId = caller.AgentId, TaskId = id, Model = caller.Agent.Model,
                InputTokens = input_tokens ?? 0, OutputTokens = output_tokens ?? 0, CostUsd = cost_usd ?? 0,
                Day = DateOnly.FromDateTime(now), CreatedAt = now,
            });
        }
        var e = TaskTimeline.Add(db, id, caller.TeamId, "progress", caller.Actor(), now,
            data: new { Note = note.Trim(), Percent = percent, InputTokens = input_tokens, OutputTokens = output_tokens, CostUsd = cost_usd });
        await db.SaveChangesAsync(ct);
        return new ProgressView(id, e.Id, note.Trim(), percent, usage);
    }
}
