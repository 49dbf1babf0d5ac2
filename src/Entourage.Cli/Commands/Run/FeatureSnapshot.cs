using System.Net;
using Entourage.Client;
using Entourage.Client.Contracts;
using Entourage.Client.Http;

namespace Entourage.Cli.Commands.Run;

/// <summary>One read of a feature: the feature task, the tasks of its plan, the team's agents, and costs.</summary>
public sealed record FeatureSnapshot(
    TaskDto Feature,
    IReadOnlyList<TaskDto> Plan,
    IReadOnlyList<AgentDto> Agents,
    decimal? TotalCost,
    IReadOnlyDictionary<long, decimal> CostByTask)
{
    public bool Finished => Feature.Status.IsTerminal();

    /// <summary>
    /// An agent is still in a turn on the feature or its plan. The task that finished the feature is marked done
    /// from inside its turn, and a turn's cost is recorded when the turn ends, so the totals are final only after.
    /// </summary>
    public bool TurnsStillRunning
    {
        get
        {
            var ids = Plan.Select(t => t.Id).Append(Feature.Id).ToHashSet();
            return Agents.Any(a => a.Status == AgentStatus.Busy && a.CurrentTaskId is { } id && ids.Contains(id));
        }
    }

    /// <summary>Plan tasks in DAG order: by depth (longest chain of dependencies inside the plan), then id.</summary>
    public IReadOnlyList<(TaskDto Task, int Depth)> Ordered()
    {
        var byId = Plan.ToDictionary(t => t.Id);
        var depth = new Dictionary<long, int>();
        int Depth(TaskDto t, int guard)
        {
            if (depth.TryGetValue(t.Id, out var d)) return d;
            // The server rejects cycles; the guard only protects the view from a malformed answer.
            d = guard > byId.Count ? 0 : t.DependsOn.Where(byId.ContainsKey).Select(id => Depth(byId[id], guard + 1) + 1).DefaultIfEmpty(0).Max();
            depth[t.Id] = d;
            return d;
        }
        return Plan.Select(t => (t, Depth(t, 0))).OrderBy(x => x.Item2).ThenBy(x => x.t.Id).ToList();
    }
}

/// <summary>Reads snapshots; remembers when the server has no costs endpoint so it stops asking.</summary>
public sealed class FeatureReader(EntourageClient client, string team, long featureId)
{
    private bool _costsAvailable = true;
    private Guid? _managerId;

    public async Task<FeatureSnapshot> ReadAsync(CancellationToken ct)
    {
        var feature = await client.GetTaskAsync(featureId, ct);
        var agents = await client.ListAgentsAsync(team, ct);
        _managerId ??= agents.FirstOrDefault(a => a.Role == AgentRole.Manager)?.Id;
        var all = await client.ListTasksAsync(team, null, ct);
        var plan = PlanOf(feature, all, _managerId);
        var (total, byTask) = _costsAvailable ? await ReadCostsAsync(plan, ct) : (null, new Dictionary<long, decimal>());
        return new FeatureSnapshot(feature, plan, agents, total, byTask);
    }

    /// <summary>
    /// The feature's descendants (parent_id chains). A manager that forgot parent_id still created its plan after
    /// the feature arrived, so top-level tasks the manager created since then count too.
    /// </summary>
    internal static List<TaskDto> PlanOf(TaskDto feature, IReadOnlyList<TaskDto> all, Guid? managerId)
    {
        var ids = new HashSet<long> { feature.Id };
        bool grew;
        do
        {
            grew = false;
            foreach (var t in all)
                if (t.ParentId is { } p && ids.Contains(p) && ids.Add(t.Id)) grew = true;
        } while (grew);
        foreach (var t in all)
            if (t.ParentId is null && t.Id > feature.Id && managerId is not null && t.CreatedByAgentId == managerId) ids.Add(t.Id);
        ids.Remove(feature.Id);
        return all.Where(t => ids.Contains(t.Id)).OrderBy(t => t.Id).ToList();
    }

    private async Task<(decimal?, Dictionary<long, decimal>)> ReadCostsAsync(IReadOnlyList<TaskDto> plan, CancellationToken ct)
    {
        TeamCostsDto costs;
        try
        {
            costs = await client.GetTeamCostsAsync(team, ct);
        }
        catch (EntourageApiException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed && ex.Title != "Team not found")
        {
            // An older server without cost tracking: show no costs rather than fail the view.
            _costsAvailable = false;
            return (null, []);
        }
        var byTask = costs.ByTask.Where(c => c.TaskId is not null).ToDictionary(c => c.TaskId!.Value, c => (decimal)c.CostUsd);
        var ids = plan.Select(t => t.Id).Append(featureId).ToHashSet();
        return (byTask.Where(kv => ids.Contains(kv.Key)).Sum(kv => kv.Value), byTask);
    }
}
