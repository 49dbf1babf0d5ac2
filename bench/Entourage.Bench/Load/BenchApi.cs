using System.Text;
using System.Text.Json.Nodes;

namespace Entourage.Bench.Load;

/// <summary>The REST calls the load scenarios make, over real HTTP, failing loudly with the problem body.</summary>
public sealed class BenchApi(string baseUrl) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(300) };

    public async Task<JsonNode> GetAsync(string path)
    {
        using var r = await _http.GetAsync(path);
        var text = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)r.StatusCode} GET {path}: {text}");
        return JsonNode.Parse(text)!;
    }

    public async Task<JsonNode> SendAsync(HttpMethod method, string path, JsonNode body)
    {
        using var req = new HttpRequestMessage(method, path) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        using var r = await _http.SendAsync(req);
        var text = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)r.StatusCode} {method} {path}: {text}");
        return JsonNode.Parse(text)!;
    }

    public Task<JsonNode> PostAsync(string path, JsonNode body) => SendAsync(HttpMethod.Post, path, body);

    /// <summary>A team (review off, the given concurrency limit) with <paramref name="agents"/> engineers running <paramref name="config"/>.</summary>
    public async Task<(Guid Team, List<Guid> Agents)> CreateTeamAsync(string slug, int agents, JsonObject config)
    {
        var org = (await GetAsync("/api/v1/orgs")).AsArray()[0]!["id"]!.ToString();
        var team = (await PostAsync($"/api/v1/orgs/{org}/teams", new JsonObject { ["name"] = slug, ["slug"] = slug }))["id"]!.GetValue<Guid>();
        await SendAsync(HttpMethod.Patch, $"/api/v1/settings/teams/{team}", new JsonObject { ["require_review"] = false, ["max_concurrent_agents"] = agents });
        var ids = new List<Guid>(agents);
        for (var i = 0; i < agents; i++)
        {
            var body = new JsonObject { ["name"] = $"eng-{i:00}", ["role"] = "engineer", ["adapter"] = "command", ["config"] = config.DeepClone() };
            ids.Add((await PostAsync($"/api/v1/teams/{team}/agents", body))["id"]!.GetValue<Guid>());
        }
        return (team, ids);
    }

    /// <summary>Creates the DAG through POST /teams/{id}/tasks/batch (at most 500 items each); returns the task ids by DAG index.</summary>
    public async Task<long[]> CreateDagAsync(Guid team, TaskDag dag, IReadOnlyList<Guid> agents)
    {
        var ids = new long[dag.Count];
        foreach (var batch in dag.Batches(agents, ids))
        {
            var created = (await PostAsync($"/api/v1/teams/{team}/tasks/batch", batch.Body))["tasks"]!.AsArray();
            for (var i = 0; i < created.Count; i++) ids[batch.First + i] = created[i]!["id"]!.GetValue<long>();
        }
        return ids;
    }

    public void Dispose() => _http.Dispose();
}
