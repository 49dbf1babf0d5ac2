using System.Net;
using System.Reflection;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Tests.Features;

/// <summary>POST /tasks/wait and the reusable <see cref="TaskWaiter"/>, run per store.</summary>
public abstract class WaitContract(Store store) : IAsyncLifetime
{
    private TestServer _s = null!;

    public async ValueTask InitializeAsync() => _s = await TestServer.StartAsync(store, new Dictionary<string, string?> { ["Api:MaxWaitSeconds"] = "2" });

    public async ValueTask DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task A_wait_times_out_at_the_capped_timeout_with_current_states()
    {
        var t = await _s.TeamAsync();
        var a = await _s.TaskAsync(t.Id, """{"title": "A"}""");
        var b = await _s.TaskAsync(t.Id, """{"title": "B"}""");
        await _s.FinishAsync(b);
        var r = (await _s.PostAsync("/api/v1/tasks/wait", $$"""{"task_ids": ["{{a}}", "{{b}}"], "timeout_seconds": 3600}""")).ShouldBe(HttpStatusCode.OK).Json;
        r["timed_out"]!.GetValue<bool>().ShouldBeTrue();
        r["completed"]!.GetValue<bool>().ShouldBeFalse();
        r["timeout_seconds"]!.GetValue<double>().ShouldBe(2); // capped by Api:MaxWaitSeconds
        r["tasks"]!.AsArray().Select(x => x!["status"].Str()).ShouldBe(["todo", "done"]);
        r["counts"]!["todo"]!.GetValue<int>().ShouldBe(1);
    }

    [Fact]
    public async Task A_wait_wakes_on_the_completion_and_reports_progress()
    {
        var t = await _s.TeamAsync();
        var a = await _s.TaskAsync(t.Id, """{"title": "A"}""");
        var waiter = _s.Services.GetRequiredService<TaskWaiter>();
        var firstProgress = new TaskCompletionSource<WaitProgress>(TaskCreationOptions.RunContinuationsAsynchronously);
        var wait = waiter.WaitAsync(new WaitTasksRequest([a], 3600), TestContext.Current.CancellationToken,
            (p, _) => { firstProgress.TrySetResult(p); return ValueTask.CompletedTask; });
        var progress = await firstProgress.Task; // the waiter has subscribed and read once
        progress.Settled.ShouldBe(0);
        progress.Total.ShouldBe(1);
        await _s.FinishAsync(a);
        var result = await wait;
        result.Completed.ShouldBeTrue();
        result.TimedOut.ShouldBeFalse();
        result.Tasks.Single().Status.ShouldBe(TaskState.Done);
    }

    [Fact]
    public async Task Bad_waits_are_422_and_a_client_that_leaves_frees_its_subscription()
    {
        (await _s.PostAsync("/api/v1/tasks/wait", """{"task_ids": []}""")).ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await _s.PostAsync("/api/v1/tasks/wait", """{"task_ids": [424242]}""")).ShouldBe(HttpStatusCode.UnprocessableEntity).Json["detail"].Str().ShouldContain("424242");
        (await _s.PostAsync("/api/v1/tasks/wait", """{"task_ids": [1], "timeout_seconds": -5}""")).ShouldBe(HttpStatusCode.UnprocessableEntity);
        // Past the maximum is refused the same way (it used to be cut to 3600 without a word), naming field and range.
        var tooLong = (await _s.PostAsync("/api/v1/tasks/wait", """{"task_ids": [1], "timeout_seconds": 99999999}""")).ShouldBe(HttpStatusCode.UnprocessableEntity).Json;
        tooLong["errors"]!["timeout_seconds"]![0].Str().ShouldBe("Give a number of seconds from 0 (just report) to 3600.");
        (await _s.PostAsync("/api/v1/tasks/wait", """{"task_ids": ["abc"]}""")).ShouldBe(HttpStatusCode.BadRequest);

        var t = await _s.TeamAsync();
        var a = await _s.TaskAsync(t.Id, """{"title": "A"}""");
        var feed = _s.Services.GetRequiredService<ChangeFeed>();
        var baseline = Subscribers(feed);
        var waiter = _s.Services.GetRequiredService<TaskWaiter>();
        using var cts = new CancellationTokenSource();
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var wait = waiter.WaitAsync(new WaitTasksRequest([a], 3600), cts.Token, (_, _) => { subscribed.TrySetResult(); return ValueTask.CompletedTask; });
        await subscribed.Task;
        Subscribers(feed).ShouldBe(baseline + 1);
        await cts.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(wait);
        Subscribers(feed).ShouldBe(baseline);
    }

    private static int Subscribers(ChangeFeed feed) =>
        ((System.Collections.ICollection)typeof(ChangeFeed).GetField("_subscribers", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(feed)!).Count;
}

public sealed class WaitContractSqlite() : WaitContract(Store.Sqlite);

public sealed class WaitContractPostgres() : WaitContract(Store.Postgres);
