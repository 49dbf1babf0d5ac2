using Entourage.Client.Contracts;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Plans;

public static class PlanViews
{
    public static async Task<Plan> FindAsync(AppDbContext db, long id, CancellationToken ct) =>
        await db.Plans.FirstOrDefaultAsync(p => p.Id == id, ct) ?? throw ApiProblem.NotFound("plan", id);

    public static async Task<PlanDto> ToDtoAsync(AppDbContext db, Plan p, CancellationToken ct)
    {
        var tasks = await db.Tasks.Where(t => t.PlanId == p.Id).OrderBy(t => t.Id).ToListAsync(ct);
        var name = p.ProposedByAgentId is { } a ? await db.Agents.Where(x => x.Id == a).Select(x => x.Name).FirstOrDefaultAsync(ct) : null;
        return new PlanDto(p.Id, p.TeamId, p.ParentTaskId, p.ProposedByAgentId, name, p.State, p.Feedback, p.DecidedBy, p.CreatedAt, p.DecidedAt,
            await TaskViews.ToDtosAsync(db, tasks, ct));
    }
}
