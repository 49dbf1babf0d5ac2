using System.Text.Json;
using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.HumanRequests;

/// <summary>
/// ask_human: an agent asks a person a question (free text), for an approval (yes/no) or to pick one of a few
/// options. The request shows up in GET /human-requests; the answer comes back as a new turn, or straight into
/// the agent's blocking call (<see cref="HumanRequestWaiter"/>).
/// </summary>
public static class AskHuman
{
    public const int MaxQuestion = 4000;
    public const int MaxOptions = 20;
    public const int MaxOption = 200;
    public const int MaxTimeoutSeconds = 7 * 24 * 3600;

    public static async Task<HumanRequestDto> ExecuteAsync(AppDbContext db, Agent agent, AskHumanRequest input, TimeProvider clock, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var question = input.Question?.Trim();
        if (string.IsNullOrEmpty(question)) errors.Add("question", "Required: what you need a person to decide or tell you, with the context they need.");
        else if (question.Length > MaxQuestion) errors.Add("question", $"At most {MaxQuestion} characters (got {question.Length}); summarise.");

        var kind = input.Kind ?? (input.Options is { Count: > 0 } ? HumanRequestKind.Choice : HumanRequestKind.Question);
        var options = input.Options?.Select(o => o?.Trim() ?? "").ToList();
        if (kind == HumanRequestKind.Choice)
        {
            if (options is null || options.Count < 2) errors.Add("options", "A choice needs at least two options, e.g. [\"PostgreSQL\", \"SQLite\"].");
            else if (options.Count > MaxOptions) errors.Add("options", $"At most {MaxOptions} options.");
            else if (options.Any(o => o.Length is 0 or > MaxOption)) errors.Add("options", $"Each option needs 1–{MaxOption} characters.");
            else if (options.Distinct(StringComparer.OrdinalIgnoreCase).Count() != options.Count) errors.Add("options", "Options must differ from each other.");
        }
        else if (options is { Count: > 0 })
        {
            errors.Add("options", $"Options only apply to kind \"choice\"; remove them or set kind to \"choice\".");
        }
        if (input.TimeoutSeconds is { } t && t is < 1 or > MaxTimeoutSeconds)
            errors.Add("timeout_seconds", $"Between 1 and {MaxTimeoutSeconds} seconds (7 days); omit it for a request that never expires.");

        var taskId = input.TaskId;
        if (taskId is { } id)
        {
            var team = await db.Tasks.Where(x => x.Id == id).Select(x => (Guid?)x.TeamId).FirstOrDefaultAsync(ct);
            if (team is null) errors.Add("task_id", $"Task {id} does not exist.");
            else if (team != agent.TeamId) errors.Add("task_id", $"Task {id} belongs to another team; give one of your team's tasks or omit task_id.");
        }
        errors.ThrowIfAny();

        // Without a task id, tie the question to the task the agent is working on, if it has exactly one.
        if (taskId is null)
        {
            var current = await db.Tasks.Where(x => x.AssigneeId == agent.Id && x.Status == TaskState.InProgress)
                .Select(x => x.Id).Take(2).ToListAsync(ct);
            if (current.Count == 1) taskId = current[0];
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var request = new HumanRequest
        {
            TeamId = agent.TeamId,
            AgentId = agent.Id,
            TaskId = taskId,
            Kind = kind,
            Question = question!,
            OptionsJson = kind == HumanRequestKind.Choice ? JsonSerializer.Serialize(options) : null,
            CreatedAt = now,
            ExpiresAt = input.TimeoutSeconds is { } s ? now.AddSeconds(s) : null,
        };
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.HumanRequests.Add(request);
        await db.SaveChangesAsync(ct);
        if (taskId is { } tid)
            HumanRequestEvents.Add(db, tid, agent.TeamId, "human_requested", ActorType.Agent, agent.Id.ToString(), agent.Name, now,
                new { HumanRequestId = request.Id, Kind = EnumNames.ToSnake(kind), Question = question });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return HumanRequestViews.ToDto(request, agent.Name);
    }
}

/// <summary>Timeline entries of human requests on their task.</summary>
internal static class HumanRequestEvents
{
    public static void Add(AppDbContext db, long taskId, Guid teamId, string kind, ActorType actorType, string? actorId, string? actorName, DateTime now, object data) =>
        db.TaskEvents.Add(new TaskEvent
        {
            TaskId = taskId,
            TeamId = teamId,
            Kind = kind,
            ActorType = actorType,
            ActorId = actorId,
            ActorName = actorName,
            DataJson = JsonSerializer.Serialize(data, JsonDefaults.Options),
            CreatedAt = now,
        });
}
