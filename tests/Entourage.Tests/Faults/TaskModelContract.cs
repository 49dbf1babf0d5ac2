using System.Net;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Tests.Features;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Tests.Faults;

/// <summary>
/// Model-based test: seeded random sequences of API calls (create, batch with depends_on_indices, assign, status
/// changes valid and invalid, dependency edits, wait, unknown ids) run against the real server and against
/// <see cref="TaskModel"/>. After every step both agree on the call's outcome (status code) and on every task:
/// status, assignee, dependencies, ready, blocked_by, blocked_by_failed; a 0 s wait agrees on never_start. The
/// dispatcher is off so only API calls change state; a ready task must still have its pending dispatch request.
/// </summary>
public abstract class TaskModelContract(Store store)
{
    private const int Steps = 150;

    [Fact]
    public Task Random_api_call_sequences_agree_with_the_reference_model_after_every_step() =>
        FaultSeed.RunAsync("model_" + store.ToString().ToLowerInvariant(), async rng =>
        {
            await using var s = await TestServer.StartAsync(store, new Dictionary<string, string?> { ["Dispatch:Enabled"] = "false" });
            var errors = ServerErrorLog.Attach(s);
            var team = await s.TeamAsync();
            var other = await s.TeamAsync("other");
            var foreignTask = await s.TaskAsync(other.Id, """{"title": "other team's task"}""");
            var run = new Run(s, team, foreignTask, rng, new TaskModel());
            for (var step = 0; step < Steps; step++)
            {
                var what = "";
                try
                {
                    what = await run.StepAsync();
                    await run.CompareAsync();
                }
                catch (Exception e)
                {
                    throw new InvalidOperationException($"at step {step} ({(what.Length > 0 ? what : run.LastCall)}): {e.Message}\nserver errors:\n{errors.Drain()}", e);
                }
            }
            run.Model.Tasks.Count.ShouldBeGreaterThan(5);
        });

    private sealed class Run(TestServer s, Api.Team3 team, long foreignTask, Random rng, TaskModel model)
    {
        public TaskModel Model => model;
        private const long Missing = 987_654_321;
        private int _n;

        private T Pick<T>(IReadOnlyList<T> items) => items[rng.Next(items.Count)];

        /// <summary>A task id: mostly the team's own, sometimes unknown or another team's.</summary>
        private long AnyId()
        {
            var r = rng.Next(20);
            if (r == 0 || model.Tasks.Count == 0) return Missing;
            if (r == 1) return foreignTask;
            return Pick(model.Tasks.Keys.ToList());
        }

        private (string? Json, Guid? Id, bool Known) AnyAssignee() => rng.Next(7) switch
        {
            0 => (null, null, true),
            1 => ("\"nobody-here\"", null, false),
            2 => ("\"eng-frontend\"", team.Frontend, true), // by name
            3 or 4 => ($"\"{team.Frontend}\"", team.Frontend, true),
            _ => ($"\"{team.Backend}\"", team.Backend, true),
        };

        private List<long> SomeDeps(int max)
        {
            var ids = model.Tasks.Keys.ToList();
            return Enumerable.Range(0, rng.Next(max + 1)).Where(_ => ids.Count > 0).Select(_ => Pick(ids)).Distinct().ToList();
        }

        public async Task<string> StepAsync()
        {
            switch (rng.Next(100))
            {
                case < 18: return await CreateAsync();
                case < 30: return await BatchAsync();
                case < 42: return await AssignAsync();
                case < 80: return await StatusAsync();
                case < 88: return await PatchDepsAsync();
                case < 95: return await WaitAsync();
                default:
                    var id = AnyId();
                    var r = await s.GetAsync($"/api/v1/tasks/{id}");
                    Expect(r, model.Tasks.ContainsKey(id) || id == foreignTask ? 200 : 404, "get");
                    return $"get {id}";
            }
        }

        private async Task<string> CreateAsync()
        {
            var (assignee, agentId, known) = AnyAssignee();
            var deps = SomeDeps(3);
            var bad = rng.Next(12) switch { 0 => Missing, 1 => foreignTask, _ => 0L };
            if (bad != 0) deps.Add(bad);
            var json = $$"""{"title": "t{{++_n}}"{{(assignee is null ? "" : $", \"assignee_id\": {assignee}")}}, "depends_on": [{{string.Join(",", deps)}}]}""";
            var r = await s.PostAsync($"/api/v1/teams/{team.Id}/tasks", json);
            var expected = known && bad == 0 ? 201 : 422;
            Expect(r, expected, "create " + json);
            if (expected == 201)
            {
                var id = r.Json["id"]!.GetValue<long>();
                model.Tasks.Add(id, new TaskModel.Task { Id = id, Assignee = agentId, Deps = [.. deps] });
            }
            return "create " + json;
        }

        private async Task<string> BatchAsync()
        {
            var n = rng.Next(1, 6);
            var items = new JsonArray();
            var ok = true;
            var indices = new List<int>[n];
            var plan = new List<(Guid? Assignee, List<long> Deps)>();
            for (var i = 0; i < n; i++)
            {
                var (assignee, agentId, known) = AnyAssignee();
                ok &= known;
                var deps = SomeDeps(2);
                if (rng.Next(25) == 0) { deps.Add(Missing); ok = false; }
                // Mostly earlier items (a DAG); now and then a later one, itself, or out of range.
                indices[i] = Enumerable.Range(0, rng.Next(3)).Select(_ => rng.Next(12) switch
                {
                    0 => rng.Next(n),
                    1 when rng.Next(4) == 0 => n + 3,
                    _ => i == 0 ? -1 : rng.Next(i),
                }).Where(x => x != -1).Distinct().ToList();
                if (indices[i].Any(x => x == i || x >= n)) ok = false;
                var item = new JsonObject { ["title"] = $"b{++_n}", ["depends_on"] = new JsonArray(deps.Select(d => (JsonNode)d).ToArray()), ["depends_on_indices"] = new JsonArray(indices[i].Select(x => (JsonNode)x).ToArray()) };
                if (assignee is not null) item["assignee_id"] = JsonNode.Parse(assignee);
                items.Add(item);
                plan.Add((agentId, deps));
            }
            if (ok && Cyclic(n, indices)) ok = false;
            var body = new JsonObject { ["tasks"] = items }.ToJsonString();
            var r = await s.PostAsync($"/api/v1/teams/{team.Id}/tasks/batch", body);
            Expect(r, ok ? 201 : 422, "batch " + body);
            if (ok)
            {
                var ids = r.Json["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<long>()).ToList();
                for (var i = 0; i < n; i++)
                    model.Tasks.Add(ids[i], new TaskModel.Task { Id = ids[i], Assignee = plan[i].Assignee, Deps = [.. plan[i].Deps, .. indices[i].Select(x => ids[x])] });
            }
            return "batch " + body;
        }

        private static bool Cyclic(int n, List<int>[] indices)
        {
            var state = new int[n];
            bool Visit(int x)
            {
                if (state[x] == 1) return true;
                if (state[x] == 2) return false;
                state[x] = 1;
                if (indices[x].Any(Visit)) return true;
                state[x] = 2;
                return false;
            }
            return Enumerable.Range(0, n).Any(Visit);
        }

        private async Task<string> AssignAsync()
        {
            var id = AnyId();
            if (id == foreignTask) id = Missing;
            var (assignee, agentId, known) = AnyAssignee();
            var json = $$"""{"assignee_id": {{assignee ?? "null"}}}""";
            var r = await s.PostAsync($"/api/v1/tasks/{id}/assign", json);
            Expect(r, model.Assign(id, agentId, known), $"assign {id} {json}");
            return $"assign {id} {json}";
        }

        private async Task<string> StatusAsync()
        {
            var id = rng.Next(8) == 0 ? AnyId() : model.Tasks.Count > 0 ? Pick(model.Tasks.Keys.ToList()) : Missing;
            if (id == foreignTask) id = Missing;
            var to = rng.Next(30) == 0 ? "finished" : Pick(TaskModel.States);
            var r = await s.StatusAsync(id, to);
            Expect(r, model.ChangeStatus(id, to), $"status {id} {to}");
            return $"status {id} → {to}";
        }

        private async Task<string> PatchDepsAsync()
        {
            var id = model.Tasks.Count > 0 && rng.Next(10) > 0 ? Pick(model.Tasks.Keys.ToList()) : Missing;
            var deps = SomeDeps(3);
            if (rng.Next(10) == 0) deps.Add(foreignTask);
            var json = $$"""{"depends_on": [{{string.Join(",", deps)}}]}""";
            var r = await s.PatchAsync($"/api/v1/tasks/{id}", json);
            Expect(r, model.ReplaceDeps(id, deps), $"patch {id} {json}");
            return $"patch {id} {json}";
        }

        private async Task<string> WaitAsync()
        {
            var ids = SomeDeps(4);
            if (ids.Count == 0) return "wait (nothing)";
            var r = await s.PostAsync("/api/v1/tasks/wait", $$"""{"task_ids": [{{string.Join(",", ids)}}], "timeout_seconds": 0}""");
            Expect(r, 200, "wait");
            var neverStart = ids.Where(i => model.NeverStart(model.Tasks[i])).Order().ToList();
            r.Json["never_start"].Ids().Order().ToList().ShouldBe(neverStart, "never_start");
            r.Json["completed"]!.GetValue<bool>().ShouldBe(ids.All(i => TaskModel.IsTerminal(model.Tasks[i].Status)), "completed");
            r.Json["timed_out"]!.GetValue<bool>().ShouldBe(!ids.All(i => TaskModel.IsTerminal(model.Tasks[i].Status) || model.NeverStart(model.Tasks[i])), "timed_out");
            return $"wait {string.Join(",", ids)}";
        }

        public string LastCall { get; private set; } = "";

        private void Expect(Api.Reply r, int expected, string what)
        {
            LastCall = what;
            ((int)r.Status).ShouldNotBe(500, $"{what}: {r.Text}");
            ((int)r.Status).ShouldBe(expected, $"{what}: {r.Text}");
        }

        /// <summary>Every task on the server equals its model (and no task exists that the model lacks).</summary>
        public async Task CompareAsync()
        {
            var r = await s.GetAsync($"/api/v1/teams/{team.Id}/tasks");
            r.ShouldBe(HttpStatusCode.OK);
            var server = r.Json.AsArray().ToDictionary(t => t!["id"]!.GetValue<long>(), t => t!);
            server.Keys.Order().ToList().ShouldBe(model.Tasks.Keys.ToList(), "the set of tasks");
            foreach (var m in model.Tasks.Values)
            {
                var t = server[m.Id];
                var label = $"task {m.Id}";
                t["status"].Str().ShouldBe(m.Status, label);
                (t["assignee_id"] is null ? (Guid?)null : t["assignee_id"]!.GetValue<Guid>()).ShouldBe(m.Assignee, label + " assignee");
                t["depends_on"].Ids().Order().ToList().ShouldBe(m.Deps.ToList(), label + " depends_on");
                t["ready"]!.GetValue<bool>().ShouldBe(model.Ready(m), label + " ready");
                t["blocked_by"].Ids().Order().ToList().ShouldBe(model.BlockedBy(m), label + " blocked_by");
                t["blocked_by_failed"].Ids().Order().ToList().ShouldBe(model.BlockedByFailed(m), label + " blocked_by_failed");
            }
            // The dispatcher is off: every ready task still holds a pending task_ready request for its assignee.
            var pending = await s.WithDbAsync(db => db.DispatchRequests.AsNoTracking()
                .Where(d => d.State == DispatchState.Pending && d.Reason == DispatchReason.TaskReady)
                .Select(d => new { d.AgentId, d.TaskId }).ToListAsync());
            foreach (var m in model.Tasks.Values.Where(model.Ready))
                pending.ShouldContain(p => p.TaskId == m.Id && p.AgentId == m.Assignee, $"task {m.Id} is ready but nothing would dispatch it to its assignee");
        }
    }
}

public sealed class TaskModelContractSqlite() : TaskModelContract(Store.Sqlite);

public sealed class TaskModelContractPostgres() : TaskModelContract(Store.Postgres);
