using Entourage.Bench.Load;
using Entourage.Tests.Infrastructure;

namespace Entourage.Tests.Load;

/// <summary>
/// The load benchmark (bench/Entourage.Bench/Load, issue #9) at a tiny size, so the harness cannot rot: a child
/// server, fake agents on a seeded DAG, the recovery of a killed node and the batch comparison all run and their
/// invariants hold (every task done once, no double dispatch, every killed turn recovered). No timing assertions.
/// </summary>
public abstract class LoadHarnessSmoke(Store store)
{
    private static readonly LoadOptions Tiny = new()
    {
        Tasks = 20,
        Agents = 4,
        FloorSamples = 20,
        RecoveryTurns = 2,
        BatchRepetitions = 1,
        StallSeconds = 20,
        Agent = BenchPaths.Curl is null ? "fake" : "curl",
    };

    private string StoreName => store == Store.Postgres ? "postgres" : "sqlite";

    private static string? PgAdmin => Environment.GetEnvironmentVariable(PostgresTestDatabase.EnvVar);

    private async Task<StoreScope> ScopeAsync() =>
        await StoreScope.CreateAsync(StoreName, store == Store.Postgres ? PostgresTestDatabase.AdminConnectionString : PgAdmin);

    [Fact]
    public async Task A_tiny_dag_run_finishes_every_task_exactly_once()
    {
        await using var scope = await ScopeAsync();
        var r = await DagRun.RunAsync(scope, Tiny);
        var report = new StringWriter();
        LoadReport.Dag(report, r);
        r.Stalled.ShouldBeFalse(report.ToString());
        r.Analysis.Done.ShouldBe(Tiny.Tasks, report.ToString());
        r.Analysis.NoDoubleDispatch.ShouldBeTrue(report.ToString());
        r.Analysis.TasksNeverRun.ShouldBe(0, report.ToString());
        r.Analysis.DispatchMs.Count.ShouldBe(Tiny.Tasks, report.ToString());
        r.PeakRssMiB.ShouldBeGreaterThan(0, report.ToString());
    }

    [Fact]
    public async Task Turns_of_a_killed_node_run_again_once()
    {
        await using var scope = await ScopeAsync();
        var r = await RecoveryRun.RunAsync(scope, Tiny);
        var report = new StringWriter();
        LoadReport.Recovery(report, r);
        r.AllRecovered.ShouldBeTrue(report.ToString());
    }

    [Fact]
    public async Task Batch_creation_and_plain_inserts_are_both_measured()
    {
        await using var scope = await ScopeAsync();
        var r = await BatchRun.RunAsync(scope, Tiny);
        r.ApiMs.Count.ShouldBe(1);
        r.SameRowsMs.Count.ShouldBe(1);
        r.TasksAndEdgesMs.Count.ShouldBe(1);
    }
}

public sealed class LoadHarnessSmokeSqlite() : LoadHarnessSmoke(Store.Sqlite);

public sealed class LoadHarnessSmokePostgres() : LoadHarnessSmoke(Store.Postgres);
