using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Entourage.Tests.Dispatch.DispatchHarness;
using static Entourage.Tests.Dispatch.DispatchHarnessExtras;

namespace Entourage.Tests.Mcp;

/// <summary>
/// Codex sessions are resumed per agent and task, as Claude Code's are: the real Codex CLI (only the model is
/// scripted) runs a first turn on a task; a message about the same task wakes the agent again, and that turn
/// continues the same Codex thread (<c>codex exec resume THREAD -</c>), so the model gets the first turn's
/// conversation back along with the new message.
/// </summary>
public abstract class CodexSessionResumeContract(Store store)
{
    private const string FirstReply = "FIRST-TURN-REPLY-7f3a: schema drafted, waiting for feedback.";
    private const string SecondMarker = "SECOND-MESSAGE-9c1e";

    [Fact]
    public async Task The_next_turn_on_the_same_task_continues_the_codex_thread_with_its_history()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync(store, FastSettings(new Dictionary<string, string?> { ["Dispatch:LeaseSeconds"] = "30" }));
        var repo = await CreateGitRepoAsync(server.DataDirectory);
        var team = await CreateTeamAsync(server, "platform", repo);
        await PatchSettingsAsync(server, team, """{"require_review": false}""");

        // Second turn: the request carries the new message; whether it also carries the first reply shows a resume.
        var secondSawFirstReply = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var model = await ScriptedModelServer.StartAsync(r =>
        {
            var raw = r.Raw.ToJsonString();
            if (!raw.Contains(SecondMarker, StringComparison.Ordinal)) return new ModelStep.Text(FirstReply);
            secondSawFirstReply.TrySetResult(raw.Contains("FIRST-TURN-REPLY-7f3a", StringComparison.Ordinal));
            return new ModelStep.Text("Continuing where I left off.");
        });
        var codexHome = AgentClis.WriteCodexHome(model.BaseUrl);
        try
        {
            var env = new JsonObject();
            foreach (var (k, v) in AgentClis.CodexEnvironment(codexHome)) env[k] = v;
            var engineer = (await server.PostJsonAsync($"/api/v1/teams/{team}/agents", new JsonObject
            {
                ["name"] = "eng-codex", ["role"] = "engineer", ["model"] = AgentClis.CodexModel, ["adapter"] = "codex",
                ["config"] = new JsonObject { ["command"] = AgentClis.Codex, ["env"] = env },
            }.ToJsonString()))["id"]!.GetValue<Guid>();

            var task = await AddTaskAsync(server, team, engineer, "Design notification schema");
            await WaitUntilAsync(server, db => db.Turns.AnyAsync(t => t.AgentId == engineer && t.State != TurnState.Running, ct), "the first codex turn to end", TimeSpan.FromMinutes(3));
            await SendMessageAsync(server, team, engineer, $"{SecondMarker}: please also index the user id column.", task);
            await WaitUntilAsync(server, async db => await db.Turns.CountAsync(t => t.AgentId == engineer && t.State != TurnState.Running, ct) >= 2,
                "the second codex turn to end", TimeSpan.FromMinutes(3));

            await using var db = Db(server);
            var turns = await db.Turns.AsNoTracking().Where(t => t.AgentId == engineer).OrderBy(t => t.StartedAt).ToListAsync(ct);
            var context = $"model log: {model.LogDirectory}\n" + string.Join("\n", turns.Select(t => $"--- turn {t.State} exit {t.ExitCode} error {t.Error} session {t.SessionId}\n{Tail(t.Log)}"));
            turns.Count.ShouldBe(2, context);
            turns.ShouldAllBe(t => t.State == TurnState.Succeeded && t.TaskId == task, context);
            turns[0].SessionId.ShouldNotBeNullOrEmpty(context);
            turns[1].SessionId.ShouldBe(turns[0].SessionId, "the second turn continued the first turn's thread\n" + context);
            (await secondSawFirstReply.Task.WaitAsync(TimeSpan.FromSeconds(5), ct)).ShouldBeTrue("the resumed thread gives the model the first turn's conversation\n" + context);
        }
        finally
        {
            try { Directory.Delete(codexHome, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static string Tail(string log) => log.Length <= 4000 ? log : "…" + log[^4000..];
}

public sealed class CodexSessionResumeSqlite() : CodexSessionResumeContract(Store.Sqlite);

public sealed class CodexSessionResumePostgres() : CodexSessionResumeContract(Store.Postgres);
