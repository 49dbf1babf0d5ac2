using System.Text.Json.Nodes;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Tests.Support;
using Entourage.Server.Git;
using Entourage.Tests.Infrastructure;

namespace Entourage.Cli.Tests.Verbs;

/// <summary>
/// review show|approve|request-changes on a real git repository, once per store. The dispatcher really claims the
/// task and makes its worktree (the engineer is a fake agent that does nothing); the test plays the engineer's
/// hands: it commits in the worktree and asks for review as the engineer's request_review tool would.
/// </summary>
public abstract class ReviewVerbs(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;
    private CliDriver _cli = null!;
    private string _repo = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync(store, new Dictionary<string, string?>
        {
            ["Dispatch:PollSeconds"] = "1",
            ["Dispatch:LogFlushMilliseconds"] = "50",
            ["Merging:PollSeconds"] = "1",
        });
        _repo = Directory.CreateTempSubdirectory("entourage-cli-review-").FullName;
        await Git(_repo, "init", "-q", "-b", "main");
        await File.WriteAllTextAsync(Path.Combine(_repo, "app.txt"), "one\ntwo\nthree\nfour\nfive\n");
        await Git(_repo, "add", "-A");
        await Git(_repo, "-c", "user.email=test@example.com", "-c", "user.name=Test", "commit", "-q", "-m", "initial");

        _cli = new CliDriver(_server.BaseUrl, workingDirectory: _repo,
            env: new Dictionary<string, string?> { ["ENTOURAGE_TEAM"] = "platform", ["USER"] = "alice" });
        var team = await _cli.RunAsync("team", "create", "Platform", "--slug", "platform", "--repo", ".", "--json");
        team.ExitCode.ShouldBe(0, team.ToString());
        team.Json()["repo_path"]!.GetValue<string>().ShouldBe(_repo);
        // The manager may be woken by what happens to the team; make it a fake too, so no real agent CLI runs.
        var manager = team.Json()["manager"]!["id"]!.GetValue<Guid>();
        var patch = new JsonObject
        {
            ["adapter"] = "command",
            ["config"] = new JsonObject { ["command"] = FakeAgents.DotnetHost, ["args"] = new JsonArray(FakeAgents.Dll) },
        };
        using var content = new StringContent(patch.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        (await _server.Http.PatchAsync($"/api/v1/agents/{manager}", content)).EnsureSuccessStatusCode();
        await FakeAgents.AddAsync(_cli, _server.DataDirectory, "platform", "eng-1", [new JsonObject { ["do"] = "print", ["text"] = "looking" }]);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        try { Directory.Delete(_repo, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static Task<string> Git(string dir, params string[] args) => GitCli.CheckedAsync(dir, CancellationToken.None, args);

    private static async Task CommitAsync(string worktree, string content, string message)
    {
        await File.WriteAllTextAsync(Path.Combine(worktree, "app.txt"), content);
        await Git(worktree, "add", "-A");
        await Git(worktree, "-c", "user.email=eng@example.com", "-c", "user.name=eng", "commit", "-q", "-m", message);
    }

    [Fact]
    public async Task Request_changes_quotes_the_line_to_the_engineer_then_approve_merges()
    {
        var created = await _cli.RunAsync("task", "create", "Make line three say good", "--assignee", "eng-1", "--json");
        created.ExitCode.ShouldBe(0, created.ToString());
        var id = created.Json()["id"]!.GetValue<long>();
        var claimed = await Waits.TaskAsync(_server, id, t => t["status"]!.GetValue<string>() == "in_progress" && t["worktree_path"] is not null,
            "claimed by eng-1 with a worktree");
        var worktree = claimed["worktree_path"]!.GetValue<string>();

        // No review yet: a verdict is a conflict, and show still shows the (empty) branch diff.
        var early = await _cli.RunAsync("review", "approve", id.ToString());
        early.ExitCode.ShouldBe(ExitCodes.Conflict, early.ToString());
        early.Error.ShouldContain("request_review");
        (await _cli.RunAsync("review", "show", id.ToString())).Out.ShouldContain("no review requested yet");

        await CommitAsync(worktree, "one\ntwo\nthree = bad\nfour\nfive\n", "change three");
        await _server.PostJsonAsync($"/api/v1/tasks/{id}/request-review", """{"summary": "changed line three"}""");

        var shown = await _cli.RunAsync("review", "show", $"#{id}");
        shown.ExitCode.ShouldBe(0, shown.ToString());
        shown.Out.ShouldContain($"Review of task #{id}: pending");
        shown.Out.ShouldContain("summary: changed line three");
        shown.Out.ShouldContain("1 file(s), +1 -1");
        shown.Out.ShouldContain("+three = bad");
        shown.Out.ShouldContain("-three");
        var stat = await _cli.RunAsync("review", "show", id.ToString(), "--stat");
        stat.Out.ShouldContain("app.txt +1 -1");
        stat.Out.ShouldNotContain("+three = bad");
        var json = (await _cli.RunAsync("review", "show", id.ToString(), "--json")).Json();
        json["review"]!["state"]!.GetValue<string>().ShouldBe("pending");
        json["diff"]!["files"]!.AsArray().Single()!["path"]!.GetValue<string>().ShouldBe("app.txt");
        json["diff"]!["branch"]!.GetValue<string>().ShouldBe(claimed["branch"]!.GetValue<string>());

        // Bad verdicts change nothing: no feedback at all, a malformed comment, a line the file does not have.
        var empty = await _cli.RunAsync("review", "request-changes", id.ToString());
        empty.ExitCode.ShouldBe(ExitCodes.Usage, empty.ToString());
        empty.Error.ShouldContain("--comment");
        var malformed = await _cli.RunAsync("review", "request-changes", id.ToString(), "-c", "app.txt:three:why");
        malformed.ExitCode.ShouldBe(ExitCodes.Usage, malformed.ToString());
        malformed.Error.ShouldContain("file:line:text");
        var offTheEnd = await _cli.RunAsync("review", "request-changes", id.ToString(), "-c", "app.txt:99:?");
        offTheEnd.ExitCode.ShouldBe(ExitCodes.Usage, offTheEnd.ToString());
        offTheEnd.Error.ShouldContain("comments[0].line");
        (await _cli.RunAsync("task", "show", id.ToString(), "--json")).Json()["status"]!.GetValue<string>().ShouldBe("in_review");

        var changes = await _cli.RunAsync("review", "request-changes", id.ToString(), "-m", "Almost.", "--comment", "app.txt:3:Say good, not bad.", "--json");
        changes.ExitCode.ShouldBe(0, changes.ToString());
        changes.Json()["state"]!.GetValue<string>().ShouldBe("changes_requested");
        changes.Json()["reviewer"]!.GetValue<string>().ShouldBe("alice");
        changes.Json()["comments"]!.AsArray().Single()!["quote"]!.GetValue<string>().ShouldContain("three = bad");
        (await _cli.RunAsync("task", "show", id.ToString(), "--json")).Json()["status"]!.GetValue<string>().ShouldBe("in_progress");

        var inbox = await _cli.RunAsync("inbox", "eng-1", "--json");
        inbox.ExitCode.ShouldBe(0, inbox.ToString());
        var message = inbox.Json()["messages"]!.AsArray().Single()!["body"]!.GetValue<string>();
        message.ShouldContain("> 3 | three = bad");
        message.ShouldContain("Say good, not bad.");
        message.ShouldContain("Almost.");
        message.ShouldContain("alice");
        var afterChanges = await _cli.RunAsync("review", "show", id.ToString());
        afterChanges.Out.ShouldContain("changes_requested by alice");
        afterChanges.Out.ShouldContain("app.txt:3");
        afterChanges.Out.ShouldContain("Say good, not bad.");
        // Decided already: approving the old round is a conflict.
        (await _cli.RunAsync("review", "approve", id.ToString())).ExitCode.ShouldBe(ExitCodes.Conflict);

        await CommitAsync(worktree, "one\ntwo\nthree = good\nfour\nfive\n", "say good");
        await _server.PostJsonAsync($"/api/v1/tasks/{id}/request-review", "{}");
        (await _cli.RunAsync("review", "show", id.ToString())).Out.ShouldContain("+three = good");

        var approved = await _cli.RunAsync("review", "approve", id.ToString(), "-m", "LGTM");
        approved.ExitCode.ShouldBe(0, approved.ToString());
        approved.Out.ShouldContain($"Approved task #{id}");
        var waited = await _cli.RunAsync("task", "wait", id.ToString(), "--timeout", "120", "--json");
        waited.ExitCode.ShouldBe(0, waited.ToString());
        waited.Json()["tasks"]!.AsArray().Single()!["status"]!.GetValue<string>().ShouldBe("done");

        var merged = (await _cli.RunAsync("review", "show", id.ToString(), "--json")).Json()["review"]!;
        merged["state"]!.GetValue<string>().ShouldBe("approved");
        merged["merge"]!["state"]!.GetValue<string>().ShouldBe("merged");
        (await _cli.RunAsync("review", "show", id.ToString())).Out.ShouldContain("merge: merged");
        (await Git(_repo, "show", "main:app.txt")).ShouldContain("three = good");
    }

    [Fact]
    public async Task Unknown_tasks_are_not_found()
    {
        (await _cli.RunAsync("review", "show", "999999")).ExitCode.ShouldBe(ExitCodes.NotFound);
        (await _cli.RunAsync("review", "approve", "999999")).ExitCode.ShouldBe(ExitCodes.NotFound);
        (await _cli.RunAsync("review", "request-changes", "999999", "-m", "no")).ExitCode.ShouldBe(ExitCodes.NotFound);
        (await _cli.RunAsync("review", "show", "x")).ExitCode.ShouldBe(ExitCodes.Usage);
    }
}

public sealed class ReviewVerbsSqlite() : ReviewVerbs(Store.Sqlite);

public sealed class ReviewVerbsPostgres() : ReviewVerbs(Store.Postgres);
