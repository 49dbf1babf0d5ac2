using System.ComponentModel;
using System.Text.Json;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace Entourage.Server.Mcp.Tools;

[McpServerToolType]
public sealed class HumanTools
{
    public const int MaxQuestion = 4000;
    public const int MaxWaitSeconds = 3600;

    public sealed record HumanRequestView(long Id, string Status, string Question, IReadOnlyList<string>? Options, long? TaskId,
        string? Answer, string? AnsweredBy, DateTime CreatedAt, DateTime? AnsweredAt, string Next);

    [McpServerTool(Name = "ask_human")]
    [Description("Asks a person a question when the task is ambiguous or a decision is not yours to make (product choices, " +
                 "credentials, anything destructive). People answer in the dashboard, CLI or API. With wait_seconds > 0 " +
                 "this call blocks (reporting progress) until the answer arrives or the time is up; otherwise it returns at " +
                 "once and the answer reaches you later as a new turn. Ask one clear question; give options when the choice " +
                 "is between known alternatives.")]
    public static async Task<HumanRequestView> AskHuman(McpCaller caller, AppDbContext db, ChangeFeed feed, TimeProvider clock,
        IProgress<ProgressNotificationValue> progress,
        [Description("The question, with the context a person needs to answer it without reading the code.")] string question,
        [Description("Possible answers to choose from, if any.")] string[]? options = null,
        [Description("The task this is about (defaults to your task in progress, if you have exactly one).")] long? task_id = null,
        [Description("Seconds to wait for the answer in this call (0 = do not wait; max 3600).")] int wait_seconds = 0,
        CancellationToken ct = default)
    {
        var errors = new ValidationErrors();
        if (string.IsNullOrWhiteSpace(question)) errors.Add("question", "Required: the question for the person.");
        else if (question.Length > MaxQuestion) errors.Add("question", $"At most {MaxQuestion} characters; put long context in the task description.");
        if (options is { Length: > 20 }) errors.Add("options", "At most 20 options.");
        if (options?.Any(string.IsNullOrWhiteSpace) == true) errors.Add("options", "Options must not be empty.");
        if (wait_seconds is < 0 or > MaxWaitSeconds) errors.Add("wait_seconds", $"Between 0 and {MaxWaitSeconds}.");
        errors.ThrowIfAny();
        long? taskId = task_id is not null ? await caller.ResolveTaskAsync(db, task_id, ct) : await TryCurrentTaskAsync(caller, db, ct);

        using var subscription = feed.Subscribe();
        var now = clock.GetUtcNow().UtcDateTime;
        var request = new HumanRequest
        {
            TeamId = caller.TeamId,
            AgentId = caller.AgentId,
            TaskId = taskId,
            Kind = options is { Length: > 0 } ? HumanRequestKind.Choice : HumanRequestKind.Question,
            Question = question.Trim(),
            OptionsJson = options is { Length: > 0 } ? JsonSerializer.Serialize(options) : null,
            CreatedAt = now,
        };
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            db.HumanRequests.Add(request);
            await db.SaveChangesAsync(ct);
            if (taskId is { } t)
                TaskTimeline.Add(db, t, caller.TeamId, "human_request", caller.Actor(), now, data: new { HumanRequestId = request.Id, request.Question, Options = options });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        if (wait_seconds > 0) await WaitForAnswerAsync(db, request, subscription, progress, TimeSpan.FromSeconds(wait_seconds), clock, ct);
        return View(request, options);
    }

    private static async Task<long?> TryCurrentTaskAsync(McpCaller caller, AppDbContext db, CancellationToken ct)
    {
        var mine = await db.Tasks.Where(t => t.AssigneeId == caller.AgentId && t.Status == TaskState.InProgress).Select(t => t.Id).Take(2).ToListAsync(ct);
        return mine.Count == 1 ? mine[0] : null;
    }

    private static async Task WaitForAnswerAsync(AppDbContext db, HumanRequest request, ChangeFeed.Subscription subscription,
        IProgress<ProgressNotificationValue> progress, TimeSpan timeout, TimeProvider clock, CancellationToken ct)
    {
        var started = clock.GetTimestamp();
        var id = request.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var timeoutCts = new CancellationTokenSource(timeout, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutCts.Token);
        // Progress keeps the CLI from cutting off a silent call (Claude Code: 300 s).
        using var heartbeat = new PeriodicTimer(TimeSpan.FromSeconds(20), clock);
        var beats = Task.Run(async () =>
        {
            try
            {
                while (await heartbeat.WaitForNextTickAsync(linked.Token))
                    progress.Report(new ProgressNotificationValue { Progress = (float)clock.GetElapsedTime(started).TotalSeconds, Message = "Waiting for a person to answer…" });
            }
            catch (OperationCanceledException) { }
        }, CancellationToken.None);
        try
        {
            while (request.Status == HumanRequestStatus.Pending)
            {
                await foreach (var e in subscription.Reader.ReadAllAsync(linked.Token))
                    if (e.Kind == "human_request" && e.Id == id) break;
                await db.Entry(request).ReloadAsync(ct);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Timed out: the request stays open; the answer will wake the agent with a new turn.
            await db.Entry(request).ReloadAsync(ct);
        }
        finally
        {
            await linked.CancelAsync();
            await beats;
        }
    }

    public static HumanRequestView View(HumanRequest r, IReadOnlyList<string>? options) => new(
        r.Id, EnumNames.ToSnake(r.Status), r.Question, options, r.TaskId, r.Answer, r.AnsweredBy, r.CreatedAt, r.AnsweredAt,
        r.Status switch
        {
            HumanRequestStatus.Answered => "Act on the answer.",
            HumanRequestStatus.Pending => "No answer yet. Continue with work that does not depend on it, or end your turn: the answer will wake you.",
            _ => "The request was closed without an answer; decide conservatively or ask again.",
        });
}
