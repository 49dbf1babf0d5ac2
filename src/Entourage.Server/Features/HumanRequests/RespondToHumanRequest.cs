using Entourage.Client.Contracts;
using Entourage.Server.Features.Reviews;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.HumanRequests;

/// <summary>
/// POST /human-requests/{id}/respond: records the answer and, in the same transaction, a message plus a
/// human_answer dispatch request so the asking agent gets a turn with it. An agent blocked in ask_human's wait
/// gets the answer in that call instead (the waiter retires the dispatch request).
/// </summary>
public static class RespondToHumanRequest
{
    public const int MaxAnswer = 20_000;

    public static async Task<HumanRequestDto> ExecuteAsync(AppDbContext db, ChangeInterceptor changes, long id, RespondHumanRequest body, string? defaultAnsweredBy, TimeProvider clock, CancellationToken ct)
    {
        var request = await HumanRequestViews.FindAsync(db, id, ct);
        if (request.Status != HumanRequestStatus.Pending)
            throw ApiProblem.Conflict($"Human request {id} is already {EnumNames.ToSnake(request.Status)}" +
                (request.Answer is null ? "." : $" (answer: \"{Short(request.Answer)}\").") + " Only pending requests can be answered; list them with GET /api/v1/human-requests?status=pending.",
                new Dictionary<string, object?> { ["status"] = EnumNames.ToSnake(request.Status) });

        var answer = Normalize(request, body);
        var answeredBy = string.IsNullOrWhiteSpace(body.AnsweredBy) ? defaultAnsweredBy ?? "human" : body.AnsweredBy.Trim();
        if (answeredBy.Length > 100) throw ApiProblem.Invalid("answered_by", "At most 100 characters.");

        var now = clock.GetUtcNow().UtcDateTime;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Conditional update: of two people answering at once, exactly one wins; the other gets the 409 below.
        var won = await db.HumanRequests.Where(h => h.Id == id && h.Status == HumanRequestStatus.Pending)
            .ExecuteUpdateAsync(s => s
                .SetProperty(h => h.Status, HumanRequestStatus.Answered)
                .SetProperty(h => h.Answer, answer)
                .SetProperty(h => h.AnsweredBy, answeredBy)
                .SetProperty(h => h.AnsweredAt, now), ct);
        if (won == 0) throw ApiProblem.Conflict($"Human request {id} was answered or expired a moment ago; reload it with GET /api/v1/human-requests/{id}.");

        if (request.AgentId is { } agentId)
        {
            var text = $"A person ({answeredBy}) answered your question #{request.Id} (\"{Short(request.Question)}\"):\n\n{answer}";
            await AgentNotice.AddAsync(db, request.TeamId, agentId, answeredBy, request.TaskId, text, DispatchReason.HumanAnswer, now, ct);
        }
        if (request.TaskId is { } taskId)
            HumanRequestEvents.Add(db, taskId, request.TeamId, "human_answered", ActorType.Human, null, answeredBy, now,
                new { HumanRequestId = request.Id, Answer = Short(answer, 500) });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        // The status change went through ExecuteUpdate, which the change feed does not see: announce it.
        changes.PublishRaw("human_request", id.ToString(), request.TeamId, "modified");

        await db.Entry(request).ReloadAsync(ct);
        return HumanRequestViews.ToDto(request, await HumanRequestViews.AgentNameAsync(db, request.AgentId, ct));
    }

    /// <summary>Checks the answer fits the kind: one of the options for a choice, yes/no for an approval.</summary>
    private static string Normalize(HumanRequest request, RespondHumanRequest body)
    {
        var text = body.Answer?.Trim();
        if (text is { Length: > MaxAnswer }) throw ApiProblem.Invalid("answer", $"At most {MaxAnswer} characters.");
        switch (request.Kind)
        {
            case HumanRequestKind.Approval:
                var approved = body.Approved ?? text?.ToLowerInvariant() switch
                {
                    "approve" or "approved" or "yes" or "y" or "ok" or "true" => true,
                    "reject" or "rejected" or "no" or "n" or "deny" or "false" => false,
                    _ => (bool?)null,
                };
                if (approved is null)
                    throw ApiProblem.Invalid(body.Answer is null ? "approved" : "answer",
                        "This request asks for an approval: send {\"approved\": true} or {\"approved\": false} (or answer \"approve\"/\"reject\"), optionally with a comment in answer.");
                // Keep a comment given next to the verdict.
                var comment = body.Approved is not null && !string.IsNullOrEmpty(text) ? $" — {text}" : "";
                return (approved.Value ? "approved" : "rejected") + comment;
            case HumanRequestKind.Choice:
                var options = HumanRequestViews.ParseOptions(request.OptionsJson) ?? [];
                var pick = options.FirstOrDefault(o => string.Equals(o, text, StringComparison.OrdinalIgnoreCase));
                if (pick is null && int.TryParse(text, out var n) && n >= 1 && n <= options.Count) pick = options[n - 1];
                if (pick is null)
                    throw ApiProblem.Invalid("answer", $"Pick one of the options: {string.Join(", ", options.Select(o => $"\"{o}\""))} (or its number, 1–{options.Count}).");
                return pick;
            default:
                if (string.IsNullOrEmpty(text)) throw ApiProblem.Invalid("answer", "Required: your answer to the agent's question.");
                return text;
        }
    }

    internal static string Short(string s, int max = 120) => s.Length <= max ? s : s[..max] + "…";
}
