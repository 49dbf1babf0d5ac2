using static Entourage.Bench.Load.Stats;

namespace Entourage.Bench.Load;

/// <summary>Prints each scenario's numbers and its ratios against the floors measured in the same run.</summary>
public static class LoadReport
{
    public static void Dag(TextWriter w, DagRun.Result r)
    {
        var a = r.Analysis;
        var o = r.Options;
        w.WriteLine(Line($"== {r.Store}: {o.Tasks}-task DAG ({r.Dag.Roots} roots, {r.Dag.Edges} edges, {o.Dag}), {o.Agents} agents ({o.Agent})"));
        w.WriteLine(Line($"done {a.Done}/{a.Tasks} in {F(r.Makespan)} s (batch creation {F(r.CreateSeconds)} s): {F(r.TasksPerSecond, "0.0")} tasks/s"));
        w.WriteLine(Line($"turns {a.Turns}: {a.SucceededTurns} succeeded, {a.FailedTurns} failed, {a.LostTurns} lost, {a.RunningTurns} still running, {a.TurnsWithoutTask} without a task"));
        w.WriteLine(Line($"dispatch latency (ready and agent free → turn claimed) p50 {F(Pct(a.DispatchMs, 50))} ms, p99 {F(Pct(a.DispatchMs, 99))} ms, max {F(Pct(a.DispatchMs, 100))} ms (n = {a.DispatchMs.Count})"));
        w.WriteLine(Line($"ready → claimed (includes waiting for the agent's previous turn to end) p50 {F(Pct(a.ReadyToClaimMs, 50))} ms, p99 {F(Pct(a.ReadyToClaimMs, 99))} ms"));
        w.WriteLine(Line($"raw floor (insert + ring + claim) p50 {F(Pct(r.RawFloorMs, 50))} ms, p99 {F(Pct(r.RawFloorMs, 99))} ms → dispatch/floor p50 {F(Pct(a.DispatchMs, 50) / Pct(r.RawFloorMs, 50), "0.0")}×, p99 {F(Pct(a.DispatchMs, 99) / Pct(r.RawFloorMs, 99), "0.0")}×"));
        w.WriteLine(Line($"spawn floor ({o.Agent} process + one HTTP call, {o.Agents} at once, n = {r.SpawnMs.Count}): p50 {F(Pct(r.SpawnMs, 50))} ms, p99 {F(Pct(r.SpawnMs, 99))} ms, {F(r.SpawnPerSecond, "0.0")} processes/s → throughput/spawn ceiling {F(r.TasksPerSecond / r.SpawnPerSecond)}"));
        w.WriteLine(Line($"server peak RSS (VmHWM) {F(r.PeakRssMiB, "0")} MiB (after setup {F(r.IdleRssMiB, "0")} MiB); CPU during the run: server {F(r.ServerCpu, "0.0")} s ({F(1000 * r.ServerCpu / Math.Max(1, a.Done), "0.0")} ms per task), agent processes {F(r.AgentCpu, "0.0")} s, over {F(r.Makespan, "0.0")} s wall"));
        w.WriteLine(a.NoDoubleDispatch
            ? "no double dispatch: no agent had overlapping turns; no task had two succeeded turns or an extra turn that was not a retry"
            : Line($"DOUBLE DISPATCH: {a.OverlappingTurnPairs} overlapping turn pairs, {a.TasksRunTwice} tasks with more than one succeeded turn, {a.TasksWithNonRetryExtraTurns} extra turns that are not retries"));
        if (a.TasksNeverRun > 0) w.WriteLine(Line($"NEVER RUN: {a.TasksNeverRun} tasks had no succeeded turn"));
        foreach (var p in a.Problems.Take(10)) w.WriteLine("  " + p);
        if (r.Stalled)
        {
            w.WriteLine(Line($"STALLED: no task finished for {F(o.StallSeconds, "0")} s"));
            foreach (var s in r.Stuck) w.WriteLine("  " + s);
        }
        w.WriteLine();
    }

    public static void Recovery(TextWriter w, RecoveryRun.Result r)
    {
        var o = r.Options;
        var how = double.IsNaN(r.RestartSeconds) ? "a second node took over" : Line($"restarted on the same file (startup {F(r.RestartSeconds)} s)");
        var median = Median(r.RecoverySeconds);
        w.WriteLine(Line($"== {r.Store}: recovery after SIGKILL of a node running {r.Turns} turns; {how}; lease {F(o.LeaseSeconds, "0.0")} s, heartbeat/sweep {F(o.HeartbeatSeconds, "0.0")} s"));
        w.WriteLine(Line($"kill → lost turn swept p50 {F(Median(r.SweptSeconds))} s; kill → turn running again p50 {F(median)} s, max {F(Pct(r.RecoverySeconds, 100))} s ({r.Recovered}/{r.Turns} recovered, {r.DoubleRuns} tasks run other than lost-once-then-once)"));
        w.WriteLine(Line($"recovery/lease {F(median / o.LeaseSeconds)}; recovery/(lease + sweep interval) {F(median / (o.LeaseSeconds + o.HeartbeatSeconds))}"));
        if (!double.IsNaN(r.RestartSeconds))
            w.WriteLine(Line($"after the restarted server answered /health: p50 {F(median - r.RestartSeconds)} s (the lease had run out during the restart)"));
        w.WriteLine();
    }

    public static void Batch(TextWriter w, BatchRun.Result r)
    {
        var api = Median(r.ApiMs);
        var same = Median(r.SameRowsMs);
        var bare = Median(r.TasksAndEdgesMs);
        w.WriteLine(Line($"== {r.Store}: creating {r.Dag.Count} tasks with {r.Dag.Edges} dependencies (median of {r.ApiMs.Count}, ms)"));
        w.WriteLine(Line($"POST /tasks/batch ({(r.Dag.Count + TaskDag.MaxBatch - 1) / TaskDag.MaxBatch} requests) {F(api, "0")}; EF AddRange of the same rows {F(same, "0")}; tasks + edges only {F(bare, "0")}"));
        w.WriteLine(Line($"batch API / same rows {F(api / same)}×; batch API / tasks + edges {F(api / bare)}×"));
        w.WriteLine();
    }
}
