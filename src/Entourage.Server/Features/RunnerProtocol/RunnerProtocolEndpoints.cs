using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Security;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.RunnerProtocol;

/// <summary>
/// The runner protocol (issue #10, docs/runners.md): how `entourage runner --server … --runner-token …` runs turns
/// on a machine that must not reach the database. Register a node, heartbeat it, long-poll for a claim (the same
/// <see cref="Dispatch.Claimer"/> as every node, on the runner's behalf), stream the log, report the workspace and
/// complete through the same <see cref="Dispatch.TurnCompletion"/>. Runner tokens only (<see cref="RouteScopes"/>).
/// </summary>
public static class RunnerProtocolEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("/runner").WithTags("Runner protocol");
        g.MapPost("/register", RegisterRunner.Handle).WithSummary("A runner announces itself (name, labels, capacity, version) and gets its node id.");
        g.MapPost("/heartbeat", RunnerHeartbeat.Handle).WithSummary("Renews the node's and its running turns' leases; names turns to stop and worktrees to remove.");
        g.MapPost("/claim", ClaimForRunner.Handle).WithSummary("Long poll (up to 25 s) for one turn to run; 204 when none.");
        g.MapPost("/stop", RegisterRunner.Stop).WithSummary("A runner shut down cleanly (its turns were released).");
        g.MapPost("/turns/{turn_id}/log", RunnerTurnCalls.Log).WithSummary("Appends output lines to the turn's log.");
        g.MapPost("/turns/{turn_id}/workspace", RunnerTurnCalls.Workspace).WithSummary("Where the turn runs, and the task's worktree and branch.");
        g.MapPost("/turns/{turn_id}/complete", CompleteRunnerTurn.Handle).WithSummary("Ends the turn (once; a late or duplicate completion answers 409 and changes nothing).");
    }

    /// <summary>The runner token of the call; anyone else (even the admin) has no node to act for.</summary>
    public static Guid RunnerTokenOf(RequestCaller caller) =>
        caller.Kind == CallerKind.Runner && caller.RunnerTokenId is { } id
            ? id
            : throw new ApiProblem(403, "Forbidden", "The runner protocol takes a runner token: mint one with POST /api/v1/runner-tokens (admin) and pass it as 'Authorization: Bearer ent_runner_…' (entourage runner --runner-token).");

    /// <summary>The caller's registered node named by <c>node_id</c>; 422 when missing, 404 when not this token's, 409 once stopped.</summary>
    public static async Task<Node> NodeAsync(AppDbContext db, RequestCaller caller, string? nodeId, ValidationErrors errors, CancellationToken ct)
    {
        var token = RunnerTokenOf(caller);
        if (string.IsNullOrWhiteSpace(nodeId)) errors.Add("node_id", "Required: the node_id that POST /api/v1/runner/register returned.");
        errors.ThrowIfAny();
        var node = await db.Nodes.FirstOrDefaultAsync(n => n.Id == nodeId && n.RunnerTokenId == token, ct)
            ?? throw new ApiProblem(404, "Node not found", $"No runner node '{nodeId}' registered with this token: register again (POST /api/v1/runner/register).");
        if (node.StoppedAt is not null)
            throw ApiProblem.Conflict($"Runner node '{nodeId}' was stopped; register again (POST /api/v1/runner/register) for a new node id.");
        return node;
    }

    /// <summary>A turn claimed by <paramref name="node"/>; 404 for any other turn (no probing of other nodes' turns).</summary>
    public static async Task<Turn> TurnAsync(AppDbContext db, Node node, string turnId, CancellationToken ct)
    {
        var turn = Guid.TryParse(turnId, out var id) ? await db.Turns.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id && t.Node == node.Id, ct) : null;
        return turn ?? throw new ApiProblem(404, "Turn not found", $"Node '{node.Id}' has no turn '{turnId}'. Use the turn_id its claim returned.");
    }

    public static ApiProblem Ended(Turn turn) =>
        ApiProblem.Conflict($"Turn {turn.Id} already ended ({EnumNames.ToSnake(turn.State)}): nothing changed. Stop the agent's process if it still runs.",
            new Dictionary<string, object?> { ["state"] = EnumNames.ToSnake(turn.State) });
}
