using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Entourage.Tests.Dispatch;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Entourage.Tests.Features;

/// <summary>
/// A status change saves with <see cref="TaskWrites"/>' one batch of plain statements instead of EF's SaveChanges.
/// It must keep SaveChanges' promises: every row written, and a task row that changed since it was read failing the
/// save as a concurrency conflict, with nothing of the batch left once the caller's transaction is gone. Both hold
/// for a batch that commits the transaction itself too (<c>commit: true</c>, PostgreSQL; SQLite ignores it): there a
/// stale row must fail the statement, or the rest of the batch would commit without it.
/// </summary>
public abstract class TaskWriteBatchContract(Store store) : IAsyncLifetime
{
    private TestServer _s = null!;

    public async ValueTask InitializeAsync() => _s = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _s.DisposeAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_save_writes_every_row_and_the_context_stays_usable(bool commit)
    {
        var ct = TestContext.Current.CancellationToken;
        var (db, task) = await TrackedTaskAsync(ct);
        await using var _ = db;
        var id = task.Id;
        var tx = await db.Database.BeginTransactionAsync(ct);
        await using (tx)
        {
            Change(db, task, "probe_committed");
            var saved = await TaskWrites.SaveAsync(db, ct, commit: commit);
            saved.Changes.ShouldNotBeNull("the batch, not SaveChanges, should have saved these").Count.ShouldBe(2);
            saved.Committed.ShouldBe(commit && store == Store.Postgres);
            if (!saved.Committed) await tx.CommitAsync(ct);
            saved.Accept();
        }

        await using var fresh = DispatchHarness.Db(_s);
        (await fresh.Tasks.SingleAsync(x => x.Id == id, ct)).Status.ShouldBe(TaskState.Cancelled);
        (await fresh.TaskEvents.CountAsync(e => e.TaskId == id && e.Kind == "probe_committed", ct)).ShouldBe(1);
        // The context's connection is back to no transaction: another one begins and ends cleanly on it.
        db.ChangeTracker.HasChanges().ShouldBeFalse("Accept leaves the context's entries unchanged");
        await using (var next = await db.Database.BeginTransactionAsync(ct)) await next.CommitAsync(ct);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_save_over_a_row_changed_since_it_was_read_conflicts_and_writes_nothing(bool commit)
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
            await Should.ThrowAsync<DbUpdateConcurrencyException>(TaskWrites.SaveAsync(db, ct, commit: commit));
        }

        await using var fresh = DispatchHarness.Db(_s);
        var row = await fresh.Tasks.SingleAsync(x => x.Id == id, ct);
        row.Title.ShouldBe("Edited meanwhile");
        row.Status.ShouldBe(TaskState.Todo);
        (await fresh.TaskEvents.CountAsync(e => e.TaskId == id && e.Kind == "probe_stale", ct)).ShouldBe(0, "the batch's insert must have been rolled back with it");
        await using (var next = await db.Database.BeginTransactionAsync(ct)) await next.CommitAsync(ct);
    }

    [Fact]
    public async Task A_batch_that_commits_publishes_what_EF_saved_earlier_in_its_transaction()
    {
        // EF's own commit publishes its saves (ChangeInterceptor); a raw COMMIT in the batch has to do the same.
        var ct = TestContext.Current.CancellationToken;
        var (db, task) = await TrackedTaskAsync(ct);
        await using var _ = db;
        var published = new List<ChangeEvent>();
        using var watch = _s.Services.GetRequiredService<ChangeFeed>().Observe(e => { lock (published) published.Add(e); });
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            db.Messages.Add(new Message { TeamId = task.TeamId, RecipientId = await db.Agents.Where(a => a.TeamId == task.TeamId).Select(a => a.Id).FirstAsync(ct), SenderName = "probe", Body = "saved by EF", CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync(ct);
            lock (published) published.ShouldNotContain(e => e.Kind == "message", "nothing is published before the commit");
            Change(db, task, "probe_after_ef");
            var saved = await TaskWrites.SaveAsync(db, ct, commit: true);
            if (!saved.Committed) await tx.CommitAsync(ct);
        }
        lock (published) published.Count(e => e.Kind == "message" && e.Op == "added").ShouldBe(1);
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
