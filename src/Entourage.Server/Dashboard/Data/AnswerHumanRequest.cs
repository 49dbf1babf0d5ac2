using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Dashboard.Data;

/// <summary>
/// A person answers an agent's question (ask_human). The answer, the task event and the dispatch request that
/// wakes the asking agent commit together, so the agent is woken exactly once with the answer.
/// Issue #6 owns human requests; when its REST/MCP use case lands, the dashboard should call that instead.
/// </summary>
public static class AnswerHumanRequest
{
    public const int MaxAnswerLength = 16 * 1024;

    public static async Task<HumanRequest> ExecuteAsync(AppDbContext db, long requestId, string? answer, string answeredBy, DateTime now, CancellationToken ct)
    {
        var text = answer?.Trim();
        var errors = new ValidationErrors();
        if (string.IsNullOrEmpty(text)) errors.Add("answer", "Required: write the answer the agent should get.");
        else if (text.Length > MaxAnswerLength) errors.Add("answer", $"At most {MaxAnswerLength} characters.");
        errors.ThrowIfAny();

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var request = await db.HumanRequests.FirstOrDefaultAsync(h => h.Id == requestId, ct) ?? throw ApiProblem.NotFound("human request", requestId);
        if (request.Status != HumanRequestStatus.Pending)
            throw ApiProblem.Conflict($"Human request {requestId} is already {request.Status.ToString().ToLowerInvariant()}; nothing to answer.");
        var options = DashboardQueries.ParseOptions(request.OptionsJson);
        if (request.Kind == HumanRequestKind.Choice && options.Count > 0 && !options.Contains(text!))
            throw ApiProblem.Invalid("answer", $"Pick one of the offered options: {string.Join(", ", options)}.");

        request.Status = HumanRequestStatus.Answered;
        request.Answer = text;
        request.AnsweredBy = answeredBy;
        request.AnsweredAt = now;
        if (request.TaskId is { } taskId)
        {
            db.TaskEvents.Add(new TaskEvent
            {
                TaskId = taskId,
                TeamId = request.TeamId,
                Kind = "human_answered",
                ActorType = ActorType.Human,
                ActorName = answeredBy,
                DataJson = System.Text.Json.JsonSerializer.Serialize(new { human_request_id = request.Id, answer = text }),
                CreatedAt = now,
            });
        }
        if (request.AgentId is { } agentId)
            DispatchRequests.Enqueue(db, request.TeamId, agentId, DispatchReason.HumanAnswer, now, request.TaskId, request.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return request;
    }
}
