using System.Data.Common;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Storage;

namespace Entourage.Server.Dispatch;

internal static partial class QuickClaim
{
    /// <summary>
    /// Who a claim statement is for, as SQL expressions: the agent, its team, and the data of its task's move entry
    /// (which names the agent). <see cref="Bound"/>: parameters the caller binds, for an agent it knows; a writer whose
    /// statement finds the agent itself gives expressions (<see cref="FoundAgent"/>).
    /// </summary>
    private sealed record ClaimFor(string Agent, string Team, string MovedData)
    {
        public static readonly ClaimFor Bound = new("@agent", "@team", "@moved_data");
    }

    /// <summary>
    /// The task variant in a writer's batch, after its writes, for an agent the statement finds itself: a CTE
    /// <c>ag (agent, team)</c> the writer gives names it (<see cref="QuickDone"/>: the assignee of a dependent its
    /// "done" made ready). The conditions are the expected variant's (no limits, not running, placed on no runner);
    /// for the launch, the writer's query picks only an agent whose CLI is one of <paramref name="launchable"/>
    /// (<see cref="Agents.AdapterCatalog.Launchable"/>, bound as <c>@launch_adapters</c> and <c>@launch_executables</c>):
    /// unlike a message's, this claim cannot be given back once made, since it moved the task. What the agent runs as is
    /// read back. No lock statement: the writer's batch took the team's lock before its writes, and runs as one
    /// transaction.
    /// </summary>
    internal sealed class FoundAgent(ClaimQueries.NewTurn turn, List<(string Adapter, string Executable)> launchable)
    {
        private const string Agent = "(SELECT ag.agent FROM ag)";

        private static readonly ClaimFor Who = new(Agent, "(SELECT ag.team FROM ag)", TaskHooks.MovedDataSql(Agent));

        /// <summary>The claim and the read of the claimed agent's launch.</summary>
        /// <param name="found">The query of the CTE <c>ag</c>: at most one row (agent, team); none claims nothing.</param>
        public static string Sql(string found) =>
            ClaimSql(task: true, Who, placement: true, prelude: $"ag AS ({found}),\n") + ";\n" +
            "SELECT a.adapter, a.config_json FROM turns t JOIN agents a ON a.id = t.agent_id WHERE t.id = @turn";

        /// <summary>Its parameters (names the writer's statements must not use: the turn's, and <see cref="TaskHooks.BindTurnStart(DbCommand, DateTime)"/>'s).</summary>
        public void Bind(DbCommand cmd) =>
            cmd.With("node", turn.Node).With("lease", turn.Lease).With("turn", turn.Id).With("token_hash", turn.Hash).BindTurnStart(turn.Now)
                .With("launch_adapters", launchable.Select(l => l.Adapter).ToArray())
                .With("launch_executables", launchable.Select(l => l.Executable).ToArray());

        /// <summary>Reads both results, the reader on the claim's: the claimed turn and its task changes, or null.</summary>
        public async Task<(ClaimedTurn Turn, List<TaskWrites.Change> TaskChanges)?> ReadAsync(DbDataReader r, CancellationToken ct)
        {
            var claim = await QuickClaim.ReadAsync(r, ct);
            if (!await r.NextResultAsync(ct)) throw new InvalidOperationException("The found agent's claim returned no result for its launch.");
            AgentLaunch? launch = await r.ReadAsync(ct) ? new(r.GetString(0), r.GetString(1)) : null;
            while (await r.ReadAsync(ct)) { }
            if (claim.Requests.Count == 0 || launch is null) return null;
            return TaskClaimed(turn, claim, claim.Requests[0].AgentId, claim.Requests[0].TeamId, launch);
        }
    }
}
