using System.Text.Json;
using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.HumanRequests;

public static class HumanRequestViews
{
    public static async Task<HumanRequest> FindAsync(AppDbContext db, long id, CancellationToken ct) =>
        await db.HumanRequests.FirstOrDefaultAsync(h => h.Id == id, ct) ?? throw ApiProblem.NotFound("human request", id);

    public static async Task<HumanRequestDto> GetAsync(AppDbContext db, long id, CancellationToken ct)
    {
        var h = await FindAsync(db, id, ct);
        return ToDto(h, await AgentNameAsync(db, h.AgentId, ct));
    }

    public static async Task<string?> AgentNameAsync(AppDbContext db, Guid? agentId, CancellationToken ct) =>
        agentId is null ? null : await db.Agents.Where(a => a.Id == agentId).Select(a => a.Name).FirstOrDefaultAsync(ct);

    public static HumanRequestDto ToDto(HumanRequest h, string? agentName) => new(
        h.Id, h.TeamId, h.AgentId, agentName, h.TaskId, h.Kind, h.Question, ParseOptions(h.OptionsJson), h.Status,
        h.Answer, h.AnsweredBy, h.CreatedAt, h.AnsweredAt, h.ExpiresAt);

    public static IReadOnlyList<string>? ParseOptions(string? json)
    {
        if (json is null) return null;
        try { return JsonSerializer.Deserialize<List<string>>(json); }
        catch (JsonException) { return null; }
    }
}
