using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
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
        JsonObject costs;
        try
        {
            costs = await client.GetTeamCostsAsync(team, ct);
        }
        catch (EntourageApiException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed && ex.Title != "Team not found")
        {
            _costsAvailable = false;
            return (null, []);
        }
        var byTask = new Dictionary<long, decimal>();
        if (costs["by_task"] is JsonArray rows)
            foreach (var row in rows.OfType<JsonObject>())
                if (Number(row["task_id"]) is { } id && Money(row) is { } usd) byTask[(long)id] = usd;
        var ids = plan.Select(t => t.Id).Append(featureId).ToHashSet();
        decimal? total = byTask.Count > 0 ? byTask.Where(kv => ids.Contains(kv.Key)).Sum(kv => kv.Value) : null;
        return (total, byTask);
    }

    private static decimal? Money(JsonObject row) =>
        Number(row["cost_usd"]) ?? Number(row["total_cost_usd"]) ?? Number(row["usd"]);

    private static decimal? Number(JsonNode? node) =>
        node is JsonValue v && decimal.TryParse(v.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
}
