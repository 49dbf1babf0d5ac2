using System.Diagnostics;
using static Entourage.Bench.Load.Stats;

namespace Entourage.Bench.Load;

/// <summary>
/// <c>dotnet run -c Release --project bench/Entourage.Bench -- load [options]</c> (issue #9, load and performance):
/// the DAG run (scenario 1), recovery after a killed node (2) and batch creation against plain inserts (3), on
/// SQLite and PostgreSQL, each against its floor measured in the same run. Prints a report; nothing here is a
/// timing assertion, but a broken invariant (double dispatch, a stuck run) makes the exit code non-zero.
/// </summary>
public static class LoadCommand
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        LoadOptions o;
        try { o = LoadOptions.Parse(args); }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }
        if (o.Agent == "curl" && BenchPaths.Curl is null)
        {
            Console.WriteLine("curl is not on PATH: using --agent fake.");
            o = o with { Agent = "fake" };
        }
        var pgAdmin = Environment.GetEnvironmentVariable("ENTOURAGE_BENCH_POSTGRES") ?? Environment.GetEnvironmentVariable("ENTOURAGE_TEST_POSTGRES");
        Console.WriteLine(Line($"load: {o.Tasks} tasks, {o.Agents} agents ({o.Agent}), dag {o.Dag}, seed {o.Seed}, {Environment.ProcessorCount} cores; {Uptime()}"));
        var ok = true;
        foreach (var store in new[] { "sqlite", "postgres" }.Where(s => o.Store == "both" || o.Store == s))
        {
            if (store == "postgres" && pgAdmin is null)
            {
                Console.WriteLine("PostgreSQL skipped: set ENTOURAGE_TEST_POSTGRES (source scripts/pg-test-env.sh).");
                continue;
            }
            ok &= await RunStoreAsync(store, pgAdmin, o);
        }
        Console.WriteLine(Uptime());
        return ok ? 0 : 1;
    }

    /// <summary>Every part on one store; false when an invariant broke.</summary>
    public static async Task<bool> RunStoreAsync(string store, string? pgAdmin, LoadOptions o, TextWriter? output = null)
    {
        var w = output ?? Console.Out;
        var ok = true;
        if (o.Runs("dag"))
        {
            await using var scope = await StoreScope.CreateAsync(store, pgAdmin);
            var r = await DagRun.RunAsync(scope, o);
            LoadReport.Dag(w, r);
            ok &= r.Analysis.NoDoubleDispatch && !r.Stalled && r.Analysis.Done == o.Tasks;
        }
        if (o.Runs("recovery"))
        {
            await using var scope = await StoreScope.CreateAsync(store, pgAdmin);
            var r = await RecoveryRun.RunAsync(scope, o);
            LoadReport.Recovery(w, r);
            ok &= r.AllRecovered;
        }
        if (o.Runs("batch"))
        {
            await using var scope = await StoreScope.CreateAsync(store, pgAdmin);
            var r = await BatchRun.RunAsync(scope, o);
            LoadReport.Batch(w, r);
        }
        return ok;
    }

    public static string Uptime()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("uptime") { RedirectStandardOutput = true, UseShellExecute = false })!;
            var s = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return "uptime: " + s;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "uptime: " + File.ReadAllText("/proc/loadavg").Trim();
        }
    }
}
