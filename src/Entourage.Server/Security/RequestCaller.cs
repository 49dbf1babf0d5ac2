using Entourage.Server.Storage;

namespace Entourage.Server.Security;

/// <summary>Who sent a request, as established by <see cref="RequestGuard"/>.</summary>
public enum CallerKind
{
    /// <summary>No credentials on a loopback-only server: the person at this machine, unrestricted (the spec's curls).</summary>
    Local,

    /// <summary>The server's admin key: unrestricted.</summary>
    Admin,

    /// <summary>An org API key: everything of one org, nothing of another.</summary>
    OrgKey,

    /// <summary>An agent token or a running turn's token: its own team only, and no operator actions.</summary>
    Agent,

    /// <summary>A runner token: the runner protocol (/api/v1/runner/…) and nothing else.</summary>
    Runner,
}

/// <summary>
/// The authenticated caller of one request (scoped service). Handlers whose route names no resource (lists
/// across teams, the change stream, waits on task ids) filter with it; every other route is checked before
/// the handler runs (<see cref="ScopeCheck"/>).
/// </summary>
public sealed class RequestCaller
{
    public CallerKind Kind { get; private set; } = CallerKind.Local;
    public Guid? OrgId { get; private set; }
    public Guid? TeamId { get; private set; }
    public Guid? AgentId { get; private set; }
    public Guid? ApiKeyId { get; private set; }

    /// <summary>The runner token of a <see cref="CallerKind.Runner"/> caller, and the labels it allows (null: any).</summary>
    public Guid? RunnerTokenId { get; private set; }
    public string? RunnerTokenLabels { get; private set; }

    /// <summary>Local or admin: sees every org.</summary>
    public bool Unrestricted => Kind is CallerKind.Local or CallerKind.Admin;

    internal void SetAdmin() => Kind = CallerKind.Admin;

    internal void SetOrgKey(Guid orgId, Guid keyId)
    {
        Kind = CallerKind.OrgKey;
        OrgId = orgId;
        ApiKeyId = keyId;
    }

    internal void SetAgent(Guid agentId, Guid teamId, Guid orgId)
    {
        Kind = CallerKind.Agent;
        AgentId = agentId;
        TeamId = teamId;
        OrgId = orgId;
    }

    internal void SetRunner(Guid tokenId, string? labels)
    {
        Kind = CallerKind.Runner;
        RunnerTokenId = tokenId;
        RunnerTokenLabels = labels;
    }

    public bool CanSeeOrg(Guid orgId) => Unrestricted || (Kind == CallerKind.OrgKey && orgId == OrgId);

    public bool CanSeeTeam(Guid teamId, Guid orgId) => Kind switch
    {
        CallerKind.Local or CallerKind.Admin => true,
        CallerKind.OrgKey => orgId == OrgId,
        CallerKind.Runner => false,
        _ => teamId == TeamId,
    };

    /// <summary>The ids of the teams this caller may see, as a query to compose (null: all teams).</summary>
    public IQueryable<Guid>? VisibleTeamIds(AppDbContext db) => Kind switch
    {
        CallerKind.Local or CallerKind.Admin => null,
        CallerKind.OrgKey => db.Teams.Where(t => t.OrgId == OrgId).Select(t => t.Id),
        CallerKind.Runner => db.Teams.Where(t => false).Select(t => t.Id),
        _ => db.Teams.Where(t => t.Id == TeamId).Select(t => t.Id),
    };
}
