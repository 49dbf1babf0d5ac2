using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Security;

/// <summary>
/// For long-lived readers (the change stream): whether a change of a given team may reach this caller. Teams
/// created while the stream is open are looked up once and remembered; changes that belong to no team (orgs,
/// keys, nodes) reach only unrestricted callers.
/// </summary>
public sealed class VisibleTeams(RequestCaller caller, IDbContextFactory<AppDbContext> factory)
{
    private readonly Dictionary<Guid, bool> _known = [];

    public async ValueTask<bool> ContainsAsync(Guid? teamId, CancellationToken ct)
    {
        if (caller.Unrestricted) return true;
        if (teamId is not { } id) return false;
        if (caller.Kind == CallerKind.Agent) return id == caller.TeamId;
        if (_known.TryGetValue(id, out var seen)) return seen;
        await using var db = await factory.CreateDbContextAsync(ct);
        var org = await db.Teams.Where(t => t.Id == id).Select(t => (Guid?)t.OrgId).FirstOrDefaultAsync(ct);
        return _known[id] = org is { } o && caller.CanSeeOrg(o);
    }
}
