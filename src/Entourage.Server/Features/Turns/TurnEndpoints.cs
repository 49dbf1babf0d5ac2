using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Turns;

/// <summary>Turns are visible (issue #4): per agent, one by one with its log, live, and cancellable.</summary>
public static class TurnEndpoints
{
    public const int MaxListLimit = 200;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/agents/{agent_id}/turns", ListForAgent).WithRange("limit", 1, MaxListLimit).WithTags("Turns");
        api.MapGet("/turns/{turn_id}", Get).WithTags("Turns");
        api.MapGet("/turns/{turn_id}/log/stream", StreamTurnLog.Handle).WithTags("Turns");
        api.MapPost("/turns/{turn_id}/cancel", CancelTurn.Handle).WithTags("Turns");
    }

    private static async Task<Ok<List<TurnDto>>> ListForAgent(string agent_id, AppDbContext db, CancellationToken ct, int? limit = null, string? state = null)
    {
        var errors = new ValidationErrors();
        if (!Guid.TryParse(agent_id, out var agentId)) throw ApiProblem.NotFound("agent", agent_id);
        if (limit is < 1 or > MaxListLimit) errors.Add("limit", $"Give a number from 1 to {MaxListLimit}.");
        TurnState? filter = null;
        if (state is not null)
        {
            if (EnumNames.TryParse<TurnState>(state, out var s)) filter = s;
            else errors.Add("state", "Use one of: running, succeeded, failed, cancelled, lost.");
        }
        errors.ThrowIfAny();
        if (!await db.Agents.AnyAsync(a => a.Id == agentId, ct)) throw ApiProblem.NotFound("agent", agent_id);
        var q = db.Turns.AsNoTracking().Where(t => t.AgentId == agentId);
        if (filter is { } f) q = q.Where(t => t.State == f);
        var turns = await q.OrderByDescending(t => t.StartedAt).Take(limit ?? 50)
            .Select(t => new Turn
            {
                Id = t.Id, AgentId = t.AgentId, TeamId = t.TeamId, TaskId = t.TaskId, State = t.State, Node = t.Node,
                Attempt = t.Attempt, StartedAt = t.StartedAt, EndedAt = t.EndedAt, ExitCode = t.ExitCode, Error = t.Error,
                SessionId = t.SessionId, WorkingDirectory = t.WorkingDirectory, InputTokens = t.InputTokens,
                OutputTokens = t.OutputTokens, CacheReadTokens = t.CacheReadTokens, CacheWriteTokens = t.CacheWriteTokens, CostUsd = t.CostUsd,
            })
            .ToListAsync(ct);
        return TypedResults.Ok(turns.Select(t => ToDto(t, null, false)).ToList());
    }

    private static async Task<Ok<TurnDto>> Get(string turn_id, AppDbContext db, CancellationToken ct)
    {
        var turn = await FindAsync(db, turn_id, ct);
        var requests = await db.DispatchRequests.AsNoTracking().Where(d => d.TurnId == turn.Id).OrderBy(d => d.Id).ToListAsync(ct);
        return TypedResults.Ok(ToDto(turn, requests, true));
    }

    public static async Task<Turn> FindAsync(AppDbContext db, string turnId, CancellationToken ct) =>
        (Guid.TryParse(turnId, out var id) ? await db.Turns.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, ct) : null)
        ?? throw ApiProblem.NotFound("turn", turnId);

    public static TurnDto ToDto(Turn t, IReadOnlyList<DispatchRequest>? requests, bool withLog) => new(
        t.Id, t.AgentId, t.TeamId, t.TaskId, t.State, t.Node, t.Attempt, t.StartedAt, t.EndedAt, t.ExitCode, t.Error,
        t.SessionId, t.WorkingDirectory,
        new TurnUsageDto(t.InputTokens, t.OutputTokens, t.CacheReadTokens, t.CacheWriteTokens, t.CostUsd),
        requests?.Select(r => new TurnRequestDto(r.Id, r.Reason, r.Ref, r.TaskId, r.State, r.Attempts)).ToList(),
        withLog ? t.Log : null);
}
