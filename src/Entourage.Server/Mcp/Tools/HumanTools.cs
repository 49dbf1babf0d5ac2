using System.ComponentModel;
using Entourage.Client.Contracts;
using Entourage.Server.Features.HumanRequests;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace Entourage.Server.Mcp.Tools;

[McpServerToolType]
public sealed class HumanTools
{
    public const int MaxWaitSeconds = 3600;

    public sealed record AskHumanResult(HumanRequestDto Request, string Next);

    [McpServerTool(Name = "ask_human")]
    [Description("Asks a person when the task is ambiguous or a decision is not yours to make (product choices, credentials, " +
                 "anything destructive) instead of guessing. kind: question (free text, default), approval (yes/no) or choice " +
                 "(give 2+ options). People answer in the dashboard, CLI or API. With wait_seconds > 0 this call blocks " +
                 "(reporting progress) until the answer arrives or the time is up; otherwise it returns at once and the answer " +
                 "reaches you later as a new turn. Ask one clear question with the context a person needs.")]
    public static async Task<AskHumanResult> AskHuman(McpCaller caller, AppDbContext db, HumanRequestWaiter waiter, TimeProvider clock,
        IProgress<ProgressNotificationValue> progress,
        [Description("The question, with the context a person needs to answer without reading the code.")] string question,
        [Description("question (default), approval or choice.")] HumanRequestKind? kind = null,
        [Description("For kind choice: the answers to pick from (at least two).")] string[]? options = null,
        [Description("The task this is about (defaults to your task in progress, if you have exactly one).")] long? task_id = null,
        [Description("Seconds to wait for the answer in this call (0 = return at once; max 3600).")] int wait_seconds = 0,
        [Description("Let the request expire after this many seconds if nobody answers (you are told); omit for never.")] int? expires_in_seconds = null,
        CancellationToken ct = default)
    {
        if (wait_seconds is < 0 or > MaxWaitSeconds) throw ApiProblem.Invalid("wait_seconds", $"Between 0 and {MaxWaitSeconds}.");
        if (task_id is { } t) await caller.EnsureTaskInTeamAsync(db, t, ct);
        var request = await Features.HumanRequests.AskHuman.ExecuteAsync(db, caller.Agent,
            new AskHumanRequest(question, kind, options, task_id, expires_in_seconds), clock, ct);
        if (wait_seconds > 0)
        {
            request = await waiter.WaitAsync(request.Id, TimeSpan.FromSeconds(wait_seconds), elapsed =>
            {
                progress.Report(new ProgressNotificationValue { Progress = (float)elapsed.TotalSeconds, Message = $"Waiting for a person to answer question #{request.Id}…" });
                return Task.CompletedTask;
            }, ct);
        }
        return new AskHumanResult(request, request.Status switch
        {
            HumanRequestStatus.Answered => "Act on the answer.",
            HumanRequestStatus.Pending => "No answer yet. Continue with work that does not depend on it, or end your turn: the answer will wake you.",
            _ => "The request closed without an answer; decide conservatively, or ask again.",
        });
    }
}
