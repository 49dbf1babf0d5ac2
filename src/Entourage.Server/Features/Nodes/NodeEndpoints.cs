using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Hosting;
using Entourage.Server.Runners;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Features.Nodes;

/// <summary>
/// GET /nodes: the server and runner processes sharing the database (issue #10), with what each runs now. A node
/// is lost once it misses its heartbeat for a lease; the sweeper then returns its turns' work to pending.
/// </summary>
public static class NodeEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("/nodes").WithTags("Nodes");
        g.MapGet("", List).WithSummary("Server and runner nodes: role, labels, state, heartbeat, running turns, version.");
    }

    private static async Task<Ok<List<NodeDto>>> List(string? state, string? id, AppDbContext db, IOptions<DispatchOptions> options, TimeProvider clock, CancellationToken ct)
    {
        if (state is not null && state is not ("active" or "lost" or "stopped"))
            throw ApiProblem.Invalid("state", "Filter by active, lost or stopped, or leave it out for every node.");
        var nodes = await db.Nodes.AsNoTracking().Where(n => id == null || n.Id == id).ToListAsync(ct);
        var dtos = await ToDtosAsync(db, nodes, options.Value, clock, ct);
        return TypedResults.Ok(dtos.Where(n => state is null || n.State == state)
            .OrderBy(n => n.State == "active" ? 0 : n.State == "lost" ? 1 : 2).ThenBy(n => n.Role).ThenBy(n => n.StartedAt).ToList());
    }

    private static async Task<List<NodeDto>> ToDtosAsync(AppDbContext db, List<Node> nodes, DispatchOptions o, TimeProvider clock, CancellationToken ct)
    {
        var ids = nodes.Select(n => n.Id).ToList();
        var turns = await db.Turns.AsNoTracking().Where(t => t.State == TurnState.Running && ids.Contains(t.Node))
            .OrderBy(t => t.StartedAt)
            .Select(t => new { t.Node, Dto = new NodeTurnDto(t.Id, t.AgentId, t.TeamId, t.TaskId, t.StartedAt, t.LeaseUntil) })
            .ToListAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        return nodes.Select(n =>
        {
            var mine = turns.Where(t => t.Node == n.Id).Select(t => t.Dto).ToList();
            return new NodeDto(n.Id, n.Role, StateOf(n, now, o.Lease), NodeLabels.Parse(n.Labels), n.Version, n.Host,
                n.MaxConcurrentTurns, mine.Count, mine, n.StartedAt, n.HeartbeatAt, n.StoppedAt);
        }).ToList();
    }

    /// <summary>A silent node counts as lost as soon as its lease would have run out, even before a sweeper marks it.</summary>
    public static string StateOf(Node n, DateTime now, TimeSpan lease) =>
        n.StoppedAt is not null ? "stopped" : n.Lost || n.HeartbeatAt < now - lease ? "lost" : "active";
}
