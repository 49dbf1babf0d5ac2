using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Dispatch;

/// <summary>
/// A Codex thread that can no longer be resumed (its rollout gone, another machine's CODEX_HOME) must not fail
/// every later turn of the agent on that task: the turn that tried to resume fails, and the retry starts a fresh
/// <c>codex exec</c>. A small script stands in for Codex: a fresh exec starts a thread, a resume fails as Codex
/// does when the thread is missing; it records the arguments of every call.
/// </summary>
public abstract class CodexFailedResumeContract(Store store)
{
    private const string FakeCodex = """
        #!/bin/sh
        # Fake codex: records its arguments; a fresh exec starts thread-N, a resume fails like a missing thread.
        dir=$(dirname "$0")
        n=$(ls "$dir" | grep -c '^call-')
        printf '%s\n' "$@" > "$dir/call-$n"
        cat > /dev/null
        if [ "$2" = "resume" ]; then
          echo "Error: thread/resume: no rollout found for thread id" >&2
          exit 1
        fi
        echo '{"type":"thread.started","thread_id":"thread-'$n'"}'
        echo '{"type":"turn.completed","usage":{"input_tokens":10,"cached_input_tokens":0,"output_tokens":5}}'
        """;

    [Fact]
    public async Task A_thread_that_fails_to_resume_is_dropped_and_the_next_turn_starts_fresh()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync(store, FastSettings(new Dictionary<string, string?> { ["Dispatch:LeaseSeconds"] = "30" }));
        var bin = Directory.CreateDirectory(Path.Combine(server.DataDirectory, "fake-codex")).FullName;
        var codex = Path.Combine(bin, "codex");
        await File.WriteAllTextAsync(codex, FakeCodex.ReplaceLineEndings("\n") + "\n", ct);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(codex, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var team = await CreateTeamAsync(server);
        await DispatchHarnessExtras.PatchSettingsAsync(server, team, """{"require_review": false}""");
        var engineer = (await server.PostJsonAsync($"/api/v1/teams/{team}/agents", new JsonObject
        {
            ["name"] = "eng-codex", ["role"] = "engineer", ["adapter"] = "codex",
            ["config"] = new JsonObject { ["command"] = codex, ["env"] = new JsonObject { ["CODEX_HOME"] = bin } },
        }.ToJsonString()))["id"]!.GetValue<Guid>();

        var task = await AddTaskAsync(server, team, engineer, "Design notification schema");
        await WaitUntilAsync(server, db => db.Turns.AnyAsync(t => t.AgentId == engineer && t.State == TurnState.Succeeded, ct), "the first turn to succeed");
        // Wakes the agent on the same task: this turn resumes thread-0, which the script refuses.
        await SendMessageAsync(server, team, engineer, "Please also index the user id column.", task);
        await WaitUntilAsync(server, async db => await db.Turns.CountAsync(t => t.AgentId == engineer && t.State != TurnState.Running, ct) >= 3,
            "the failed resume and its retry to end");

        await using var ctx = Db(server);
        var turns = await ctx.Turns.AsNoTracking().Where(t => t.AgentId == engineer).OrderBy(t => t.StartedAt).ToListAsync(ct);
        var calls = Enumerable.Range(0, 3).Select(i => File.ReadAllLines(Path.Combine(bin, $"call-{i}"))).ToList();
        var context = string.Join("\n", turns.Select(t => $"turn {t.State} attempt {t.Attempt} session {t.SessionId} error {t.Error}"))
            + "\n" + string.Join("\n", calls.Select(c => string.Join(' ', c)));
        turns.Count.ShouldBe(3, context);
        calls[0].ShouldNotContain("resume", context);
        calls[1][..2].ShouldBe(["exec", "resume"], context);
        calls[1].ShouldContain("thread-0", context);
        turns[1].State.ShouldBe(TurnState.Failed, context);
        // The retry of the same message: a new thread, not the one that failed.
        calls[2].ShouldNotContain("resume", context);
        calls[2].ShouldNotContain("thread-0", context);
        turns[2].State.ShouldBe(TurnState.Succeeded, context);
        turns[2].SessionId.ShouldBe("thread-2", context);
        turns.ShouldAllBe(t => t.TaskId == task, context);
    }
}

public sealed class CodexFailedResumeSqlite() : CodexFailedResumeContract(Store.Sqlite);

public sealed class CodexFailedResumePostgres() : CodexFailedResumeContract(Store.Postgres);
