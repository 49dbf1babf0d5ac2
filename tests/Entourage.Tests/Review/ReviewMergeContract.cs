using System.Net;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Tests.Review;

/// <summary>Review with line comments and the merge queue on real git repositories, per store.</summary>
public abstract class ReviewMergeContract(Store store) : IAsyncLifetime
{
    private ReviewFixture _f = null!;

    public async ValueTask InitializeAsync() => _f = await ReviewFixture.StartAsync(store);

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    private static StringContent Json(string s) => new(s, System.Text.Encoding.UTF8, "application/json");

    [Fact]
    public async Task Review_round_trip_quotes_the_commented_line_then_lands_the_fix_on_main()
    {
        var (id, wt) = await _f.StartTaskAsync("Fix third line");
        var (dependent, _) = await _f.StartTaskAsync("Use third line", id);
        await ReviewFixture.CommitAsync(wt, "app.txt", "one\ntwo\nthree = bad\nfour\nfive\n", "change three");

        var review = await _f.Server.PostJsonAsync($"/api/v1/tasks/{id}/request-review", """{"summary": "changed line three"}""");
        (await _f.TaskAsync(id))["status"]!.GetValue<string>().ShouldBe("in_review");
        var diff = await _f.Server.GetJsonAsync($"/api/v1/tasks/{id}/diff");
        diff["files"]!.AsArray().Count.ShouldBe(1);
        diff["files"]![0]!["path"]!.GetValue<string>().ShouldBe("app.txt");
        diff["files"]![0]!["additions"]!.GetValue<int>().ShouldBe(1);
        diff["unified"]!.GetValue<string>().ShouldContain("+three = bad");
        (await (await _f.Server.Http.GetAsync($"/api/v1/tasks/{id}/diff?file=app.txt&format=unified")).Content.ReadAsStringAsync()).ShouldContain("-three");

        // A comment on a line the file does not have is refused, naming the field.
        var bad = await _f.Server.Http.PostAsync($"/api/v1/tasks/{id}/review",
            Json("""{"decision": "request_changes", "comments": [{"file": "app.txt", "line": 99, "body": "?"}, {"file": "nope.txt", "line": 1, "body": "?"}]}"""));
        bad.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        var problem = await bad.Content.ReadAsStringAsync();
        problem.ShouldContain("comments[0].line");
        problem.ShouldContain("comments[1].file");

        await _f.Server.PostJsonAsync($"/api/v1/tasks/{id}/review",
            """{"decision": "request_changes", "reviewer": "alice", "body": "Almost.", "comments": [{"file": "app.txt", "line": 3, "body": "Say good, not bad."}]}""");
        (await _f.TaskAsync(id))["status"]!.GetValue<string>().ShouldBe("in_progress");
        var messages = await _f.MessagesToAsync(_f.EngineerId);
        messages.Count.ShouldBe(1);
        messages[0].ShouldContain("> 3 | three = bad");
        messages[0].ShouldContain("Say good, not bad.");
        messages[0].ShouldContain("alice");
        (await _f.InDbAsync(db => db.DispatchRequests.CountAsync(r => r.AgentId == _f.EngineerId && r.Reason == DispatchReason.Review))).ShouldBe(1);
        // The engineer's next turn is given that one message.
        await _f.WaitForTurnWithMessageAsync(_f.EngineerId, await _f.LastMessageIdToAsync(_f.EngineerId));
        var feedback = await _f.Server.GetJsonAsync($"/api/v1/reviews/{review["id"]}");
        feedback["state"]!.GetValue<string>().ShouldBe("changes_requested");
        feedback["comments"]![0]!["quote"]!.GetValue<string>().ShouldContain("three = bad");

        await ReviewFixture.CommitAsync(wt, "app.txt", "one\ntwo\nthree = good\nfour\nfive\n", "say good");
        var second = await _f.Server.PostJsonAsync($"/api/v1/tasks/{id}/request-review", "{}");
        await _f.Server.PostJsonAsync($"/api/v1/reviews/{second["id"]}/approve", """{"body": "LGTM"}""");

        (await _f.WaitForStatusAsync(id, "done", "in_progress")).ShouldBe("done");
        (await File.ReadAllTextAsync(Path.Combine(_f.Repo, "app.txt"))).ShouldContain("three = good");
        (await ReviewFixture.Git(_f.Repo, "show", "main:app.txt")).ShouldContain("three = good");
        Directory.Exists(wt).ShouldBeFalse();
        (await ReviewFixture.Git(_f.Repo, "branch", "--list", "entourage/*")).ShouldContain($"task-{id}-");
        var merge = (await _f.Server.GetJsonAsync($"/api/v1/tasks/{id}/merge")).AsArray();
        merge[^1]!["state"]!.GetValue<string>().ShouldBe("merged");
        // The squash strategy lands one commit on top of the initial one.
        (await ReviewFixture.Git(_f.Repo, "rev-list", "--count", "main")).ShouldBe("2");
        // The dependent became ready: its engineer gets a task_ready turn.
        (await _f.InDbAsync(db => db.DispatchRequests.CountAsync(r => r.TaskId == dependent && r.Reason == DispatchReason.TaskReady))).ShouldBe(1);
    }

    [Fact]
    public async Task Two_approved_tasks_on_the_same_lines_first_lands_second_comes_back_naming_the_file()
    {
        // The engineer works one task at a time: the second starts once the first is in review, both from main.
        var (a, wtA) = await _f.StartTaskAsync("First edit");
        await ReviewFixture.CommitAsync(wtA, "app.txt", "one\ntwo\nthree by A\nfour\nfive\n", "A");
        await _f.Server.PostJsonAsync($"/api/v1/tasks/{a}/request-review", "{}");
        var (b, wtB) = await _f.StartTaskAsync("Second edit");
        await ReviewFixture.CommitAsync(wtB, "app.txt", "one\ntwo\nthree by B\nfour\nfive\n", "B");
        await _f.Server.PostJsonAsync($"/api/v1/tasks/{b}/request-review", "{}");
        await _f.Server.PostJsonAsync($"/api/v1/tasks/{a}/review", """{"decision": "approve"}""");
        await _f.Server.PostJsonAsync($"/api/v1/tasks/{b}/review", """{"decision": "approve"}""");

        (await _f.WaitForStatusAsync(a, "done", "in_progress")).ShouldBe("done");
        (await _f.WaitForStatusAsync(b, "done", "in_progress")).ShouldBe("in_progress");
        (await ReviewFixture.Git(_f.Repo, "show", "main:app.txt")).ShouldContain("three by A");
        var message = (await _f.MessagesToAsync(_f.EngineerId)).Single();
        message.ShouldContain("app.txt");
        message.ShouldContain("conflict");
        var merge = (await _f.Server.GetJsonAsync($"/api/v1/tasks/{b}/merge")).AsArray();
        merge[^1]!["state"]!.GetValue<string>().ShouldBe("failed");
        merge[^1]!["error"]!.GetValue<string>().ShouldContain("app.txt");
        // The worktree is left clean for the engineer to rebase in.
        (await ReviewFixture.Git(wtB, "status", "--porcelain")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Changes_requested_on_a_task_whose_engineer_was_deleted_send_it_to_todo_for_the_manager()
    {
        var (id, wt) = await _f.StartTaskAsync("Orphaned fix");
        await ReviewFixture.CommitAsync(wt, "app.txt", "one\ntwo\nthree = orphan\nfour\nfive\n", "orphan");
        await _f.Server.PostJsonAsync($"/api/v1/tasks/{id}/request-review", "{}");
        await Dispatch.DispatchHarness.WaitUntilAsync(_f.Server, async db => !await db.Turns.AnyAsync(t => t.AgentId == _f.EngineerId && t.State == TurnState.Running), "the engineer's turn to end");
        (await _f.Server.Http.DeleteAsync($"/api/v1/agents/{_f.EngineerId}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await _f.TaskAsync(id))["status"]!.GetValue<string>().ShouldBe("in_review");

        await _f.Server.PostJsonAsync($"/api/v1/tasks/{id}/review", """{"decision": "request_changes", "body": "Use the constant."}""");
        var task = await _f.TaskAsync(id);
        task["status"]!.GetValue<string>().ShouldBe("todo");
        task["assignee_id"].ShouldBeNull();
        (await _f.InDbAsync(db => db.DispatchRequests.AnyAsync(d => d.AgentId == _f.ManagerId && d.TaskId == id && d.Reason == DispatchReason.TaskReady)))
            .ShouldBeTrue();
    }

    [Fact]
    public async Task A_failing_check_keeps_the_base_branch_untouched_and_sends_the_output_tail()
    {
        await _f.SetTeamAsync(t => t.CheckCommand = "echo running tests; echo 'FAILED test_profile: expected 200' >&2; exit 3");
        var before = await ReviewFixture.Git(_f.Repo, "rev-parse", "main");
        var (id, wt) = await _f.StartTaskAsync("Break tests");
        await ReviewFixture.CommitAsync(wt, "app.txt", "one\ntwo\nthree\nfour\nfive\nsix\n", "six");
        await _f.Server.PostJsonAsync($"/api/v1/tasks/{id}/request-review", "{}");
        await _f.Server.PostJsonAsync($"/api/v1/tasks/{id}/review", """{"decision": "approve"}""");

        (await _f.WaitForStatusAsync(id, "done", "in_progress")).ShouldBe("in_progress");
        (await ReviewFixture.Git(_f.Repo, "rev-parse", "main")).ShouldBe(before);
        var message = (await _f.MessagesToAsync(_f.EngineerId)).Single();
        message.ShouldContain("FAILED test_profile: expected 200");
        message.ShouldContain("exit code 3");
    }

    [Fact]
    public async Task Without_required_review_request_review_goes_straight_to_the_merge_queue()
    {
        await _f.SetTeamAsync(t => { t.RequireReview = false; t.MergeStrategy = "rebase"; });
        var (id, wt) = await _f.StartTaskAsync("Quick fix");
        await ReviewFixture.CommitAsync(wt, "app.txt", "one\ntwo\nthree\nfour\nfive!\n", "five!");
        await ReviewFixture.CommitAsync(wt, "notes.txt", "n\n", "notes");
        var review = await _f.Server.PostJsonAsync($"/api/v1/tasks/{id}/request-review", "{}");
        review["state"]!.GetValue<string>().ShouldBe("approved");
        (await _f.WaitForStatusAsync(id, "done", "in_progress")).ShouldBe("done");
        // The rebase strategy keeps both commits.
        (await ReviewFixture.Git(_f.Repo, "rev-list", "--count", "main")).ShouldBe("3");
    }
}

public sealed class ReviewMergeContractSqlite() : ReviewMergeContract(Store.Sqlite);

public sealed class ReviewMergeContractPostgres() : ReviewMergeContract(Store.Postgres);
