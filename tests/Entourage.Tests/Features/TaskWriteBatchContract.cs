using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Entourage.Tests.Dispatch;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Shouldly;

namespace Entourage.Tests.Features;

/// <summary>
/// A status change saves with <see cref="TaskWrites"/>' one batch of plain statements instead of EF's SaveChanges.
/// It must keep SaveChanges' promises: every row written, and a task row that changed since it was read failing the
/// save as a concurrency conflict, with nothing of the batch left once the caller's transaction is gone.
/// </summary>
public abstract class TaskWriteBatchContract(Store store) : IAsyncLifetime
{
    private TestServer _s = null!;

    public async ValueTask InitializeAsync() => _s = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task A_save_writes_every_row_and_the_context_stays_usable()
    {
        var ct = TestContext.Current.CancellationToken;
        var (db, task) = await TrackedTaskAsync(ct);
        await using var _ = db;
        var id = task.Id;
        var tx = await db.Database.BeginTransactionAsync(ct);
        await using (tx)
        {
            Change(db, task, "probe_committed");
            var saved = await TaskWrites.SaveAsync(db, ct);
            saved.Changes.ShouldNotBeNull("the batch, not SaveChanges, should have saved these").Count.ShouldBe(2);
            await tx.CommitAsync(ct);
            saved.Accept();
        }

        await using var fresh = DispatchHarness.Db(_s);
        (await fresh.Tasks.SingleAsync(x => x.Id == id, ct)).Status.ShouldBe(TaskState.Cancelled);
        (await fresh.TaskEvents.CountAsync(e => e.TaskId == id && e.Kind == "probe_committed", ct)).ShouldBe(1);
        // The context's connection is back to no transaction: another one begins and ends cleanly on it.
        db.ChangeTracker.HasChanges().ShouldBeFalse("Accept leaves the context's entries unchanged");
        await using (var next = await db.Database.BeginTransactionAsync(ct)) await next.CommitAsync(ct);
    }

    [Fact]
    public async Task A_save_over_a_row_changed_since_it_was_read_conflicts_and_writes_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var (db, task) = await TrackedTaskAsync(ct);
        await using var _ = db;
        var id = task.Id;
        // Another writer changes the row after this context read it.
        await using (var other = DispatchHarness.Db(_s))
        {
            var mine = await other.Tasks.SingleAsync(x => x.Id == id, ct);
            mine.Title = "Edited meanwhile";
            await other.SaveChangesAsync(ct);
        }

        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            Change(db, task, "probe_stale");
            await Should.ThrowAsync<DbUpdateConcurrencyException>(TaskWrites.SaveAsync(db, ct));
        }

        await using var fresh = DispatchHarness.Db(_s);
        var row = await fresh.Tasks.SingleAsync(x => x.Id == id, ct);
        row.Title.ShouldBe("Edited meanwhile");
        row.Status.ShouldBe(TaskState.Todo);
        (await fresh.TaskEvents.CountAsync(e => e.TaskId == id && e.Kind == "probe_stale", ct)).ShouldBe(0, "the batch's insert must have been rolled back with it");
        await using (var next = await db.Database.BeginTransactionAsync(ct)) await next.CommitAsync(ct);
    }

    /// <summary>A new task nobody's turn touches (unassigned), read and tracked by a context of its own.</summary>
    private async Task<(AppDbContext Db, TaskItem Task)> TrackedTaskAsync(CancellationToken ct)
    {
        var t = await _s.TeamAsync();
        var id = await _s.TaskAsync(t.Id, """{"title": "Unassigned, so nobody's turn touches it"}""");
        var db = DispatchHarness.Db(_s);
        return (db, await db.Tasks.SingleAsync(x => x.Id == id, ct));
    }

    /// <summary>A change of the kind a status change leaves: the task modified, a timeline entry added (inserted first, as there).</summary>
    private static void Change(AppDbContext db, TaskItem task, string kind)
    {
        var now = DateTime.UtcNow;
        TaskTimeline.Add(db, task.Id, task.TeamId, kind, TaskHooks.Dispatcher, now);
        task.Status = TaskState.Cancelled;
        task.UpdatedAt = now;
    }
}

public sealed class TaskWriteBatchContractSqlite() : TaskWriteBatchContract(Store.Sqlite);

public sealed class TaskWriteBatchContractPostgres() : TaskWriteBatchContract(Store.Postgres);
