using Entourage.Server.Dispatch;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features;

/// <summary>
/// Saves a row whose name must be unique (org slug, team slug in its org, agent name in its team). The handler's
/// check answers a plain duplicate with its 409; two requests racing both pass that check, and the loser's insert
/// then fails on the store's unique index. That is the same conflict, so it gets the same 409, not a 500.
/// </summary>
public static class UniqueNames
{
    public static async Task SaveOrConflictAsync(this AppDbContext db, Func<ApiProblem> conflict, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (Claimer.IsUniqueViolation(ex))
        {
            throw conflict();
        }
    }
}
