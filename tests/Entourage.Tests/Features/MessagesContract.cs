using System.Net;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Tests.Features;

/// <summary>Messages, inboxes and agents, run per store.</summary>
public abstract class MessagesContract(Store store) : IAsyncLifetime
{
    private TestServer _s = null!;

    public async ValueTask InitializeAsync() => _s = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task Messages_wake_the_recipient_link_to_tasks_and_read_unread_first()
    {
        var t = await _s.TeamAsync();
        var task = await _s.TaskAsync(t.Id, """{"title": "API"}""");
        var m1 = (await _s.PostAsync($"/api/v1/teams/{t.Id}/messages", $$"""{"sender_id": "{{t.Manager}}", "recipient_id": "{{t.Backend}}", "body": "first", "task_id": {{task}}}""")).ShouldBe(HttpStatusCode.Created).Json;
        var m2 = (await _s.PostAsync($"/api/v1/teams/{t.Id}/messages", """{"sender_name": "alice", "recipient_id": "eng-backend", "body": "second"}""")).ShouldBe(HttpStatusCode.Created).Json;
        var m3 = (await _s.PostAsync($"/api/v1/teams/{t.Id}/messages", """{"recipient_id": "eng-backend", "body": "third"}""")).ShouldBe(HttpStatusCode.Created).Json;
        m2["sender_name"].Str().ShouldBe("alice");
        m2["sender_id"].ShouldBeNull();
        m3["sender_name"].Str().ShouldBe("human");
        var ids = new[] { m1, m2, m3 }.Select(m => m["id"]!.GetValue<long>()).ToList();
        (await _s.DispatchAsync()).Where(d => d.Reason == DispatchReason.Message)
            .ShouldBe(ids.Select(id => (t.Backend, DispatchReason.Message, id == ids[0] ? (long?)task : null, (string?)id.ToString())).ToList());

        var linked = (await _s.GetAsync($"/api/v1/tasks/{task}/events")).Json.AsArray().Single(e => e!["kind"].Str() == "message")!;
        linked["actor"]!["type"].Str().ShouldBe("agent");
        linked["actor"]!["name"].Str().ShouldBe("manager");
        linked["data"]!["body"].Str().ShouldBe("first");

        (await _s.PostAsync($"/api/v1/agents/{t.Backend}/inbox/read", $$"""{"message_ids": [{{ids[1]}}]}""")).ShouldBe(HttpStatusCode.OK).Json["unread_count"]!.GetValue<int>().ShouldBe(2);
        var inbox = (await _s.GetAsync($"/api/v1/agents/{t.Backend}/inbox")).Json;
        inbox["messages"]!.AsArray().Select(m => m!["id"]!.GetValue<long>()).ShouldBe([ids[0], ids[2], ids[1]]); // unread first
        (await _s.GetAsync($"/api/v1/agents/{t.Backend}/inbox?unread_only=true")).Json["messages"]!.AsArray().Count.ShouldBe(2);
        (await _s.PostAsync($"/api/v1/agents/{t.Frontend}/inbox/read", $$"""{"message_ids": [{{ids[0]}}]}""")).ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await _s.PostAsync($"/api/v1/agents/{t.Backend}/inbox/read", "{}")).Json["marked"]!.GetValue<int>().ShouldBe(2);
        (await _s.GetAsync($"/api/v1/agents/{t.Backend}/inbox")).Json["unread_count"]!.GetValue<int>().ShouldBe(0);
        (await _s.GetAsync($"/api/v1/teams/{t.Id}/messages?task_id={task}")).Json.AsArray().Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_message_by_the_quick_path_reads_back_like_one_by_the_full_path()
    {
        // The common message is three hand-written statements (QuickSend); one linked to a task takes the EF
        // path. Both must leave rows EF reads back the same way, and publish the same change events.
        var t = await _s.TeamAsync();
        var task = await _s.TaskAsync(t.Id, """{"title": "API"}""");
        var feed = _s.Services.GetRequiredService<ChangeFeed>();
        using var sub = feed.Subscribe();
        var quick = (await _s.PostAsync($"/api/v1/teams/{t.Id}/messages", $$"""{"sender_id": "eng-frontend", "recipient_id": "{{t.Backend}}", "body": "quick ✓"}""")).ShouldBe(HttpStatusCode.Created).Json;
        var full = (await _s.PostAsync($"/api/v1/teams/{t.Id}/messages", $$"""{"sender_id": "eng-frontend", "recipient_id": "{{t.Backend}}", "body": "full", "task_id": {{task}}}""")).ShouldBe(HttpStatusCode.Created).Json;

        var rows = await _s.WithDbAsync(db => db.Messages.AsNoTracking().OrderBy(m => m.Id).ToListAsync());
        rows.Count.ShouldBe(2);
        foreach (var (row, answer) in rows.Zip([quick, full]))
        {
            row.Id.ShouldBe(answer["id"]!.GetValue<long>());
            row.SenderId.ShouldBe(t.Frontend);
            row.SenderName.ShouldBe("eng-frontend");
            row.RecipientId.ShouldBe(t.Backend);
            row.CreatedAt.Kind.ShouldBe(DateTimeKind.Utc);
            // PostgreSQL keeps microseconds; the answer has the clock's full precision.
            (row.CreatedAt - answer["created_at"]!.GetValue<DateTime>().ToUniversalTime()).Duration().ShouldBeLessThan(TimeSpan.FromMilliseconds(1));
            answer["recipient_name"].Str().ShouldBe("eng-backend");
            answer["sender_name"].Str().ShouldBe("eng-frontend");
        }
        rows[0].Body.ShouldBe("quick ✓");
        // Found by EF's own translation of Guid and time comparisons (SQLite stores both as text).
        (await _s.WithDbAsync(db => db.Messages.CountAsync(m => m.RecipientId == t.Backend && m.SenderId == t.Frontend && m.CreatedAt <= rows[1].CreatedAt))).ShouldBe(2);
        var requests = await _s.WithDbAsync(db => db.DispatchRequests.AsNoTracking().Where(r => r.Reason == DispatchReason.Message).OrderBy(r => r.Id).ToListAsync());
        requests.Select(r => (r.AgentId, r.TeamId, r.State, r.Ref, r.Attempts, r.Priority)).ShouldBe(
            rows.Select(m => (t.Backend, t.Id, DispatchState.Pending, (string?)m.Id.ToString(), 0, 0)).ToList());
        requests[0].CreatedAt.ShouldBe(rows[0].CreatedAt);

        var seen = new List<(string, string, Guid?)>();
        while (seen.Count < 4 && sub.Reader.TryRead(out var e))
            if (e.Kind is "message" or "dispatch_request" && e.Op == "added") seen.Add((e.Kind, e.Op, e.TeamId));
        seen.ShouldBe([("message", "added", t.Id), ("dispatch_request", "added", t.Id), ("message", "added", t.Id), ("dispatch_request", "added", t.Id)]);
    }

    [Fact]
    public async Task Senders_and_recipients_must_be_agents_of_the_team()
    {
        var t = await _s.TeamAsync();
        var other = await _s.TeamAsync("other");
        var otherTask = await _s.TaskAsync(other.Id, """{"title": "theirs"}""");
        var before = await _s.FingerprintAsync();
        var bad = (await _s.PostAsync($"/api/v1/teams/{t.Id}/messages", $$"""{"sender_id": "{{other.Manager}}", "recipient_id": "{{other.Backend}}", "body": "", "task_id": {{otherTask}}}""")).ShouldBe(HttpStatusCode.UnprocessableEntity).Json;
        bad["errors"]!.AsObject().Select(kv => kv.Key).ShouldBe(["sender_id", "recipient_id", "body", "task_id"], ignoreOrder: true);
        (await _s.PostAsync($"/api/v1/teams/{t.Id}/messages", $$"""{"sender_id": "{{t.Backend}}", "recipient_id": "{{t.Backend}}", "body": "me"}""")).ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await _s.PostAsync($"/api/v1/teams/{t.Id}/messages", $$"""{"recipient_id": "{{t.Backend}}", "body": "{{new string('x', 20_001)}}"}""")).ShouldBe(HttpStatusCode.UnprocessableEntity).Json["errors"]!["body"].ShouldNotBeNull();
        (await _s.FingerprintAsync()).ShouldBe(before);
    }

    [Fact]
    public async Task Agents_are_unique_per_team_editable_and_deletable_when_idle()
    {
        var t = await _s.TeamAsync();
        (await _s.PostAsync($"/api/v1/teams/{t.Id}/agents", """{"name": "eng-backend"}""")).ShouldBe(HttpStatusCode.Conflict);
        var other = await _s.TeamAsync("other"); // the same names in another team are fine
        other.Backend.ShouldNotBe(t.Backend);

        var patched = (await _s.PatchAsync($"/api/v1/agents/{t.Backend}", """{"name": "eng-api", "model": "claude-opus-4", "config": {"description": "APIs", "max_turns": 5}}""")).ShouldBe(HttpStatusCode.OK).Json;
        patched["name"].Str().ShouldBe("eng-api");
        patched["config"]!["max_turns"]!.GetValue<int>().ShouldBe(5);
        (await _s.PatchAsync($"/api/v1/agents/{t.Backend}", """{"name": "eng-frontend"}""")).ShouldBe(HttpStatusCode.Conflict);
        (await _s.PatchAsync($"/api/v1/agents/{t.Manager}", """{"role": "engineer"}""")).ShouldBe(HttpStatusCode.Conflict);
        (await _s.PatchAsync($"/api/v1/agents/{t.Backend}", """{"adapter": "vim"}""")).ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await _s.GetAsync($"/api/v1/agents/{t.Backend}")).ShouldBe(HttpStatusCode.OK).Json["model"].Str().ShouldBe("claude-opus-4");

        var task = await _s.TaskAsync(t.Id, $$"""{"title": "owned", "assignee_id": "{{t.Backend}}"}""");
        (await _s.DeleteAsync($"/api/v1/agents/{t.Manager}")).ShouldBe(HttpStatusCode.Conflict);
        (await _s.DeleteAsync($"/api/v1/agents/{t.Backend}")).ShouldBe(HttpStatusCode.NoContent);
        (await _s.GetAsync($"/api/v1/agents/{t.Backend}")).ShouldBe(HttpStatusCode.NotFound);
        (await _s.GetAsync($"/api/v1/tasks/{task}")).Json["assignee_id"].ShouldBeNull();
        (await _s.GetAsync($"/api/v1/tasks/{task}/events")).Json.AsArray().Last()!["kind"].Str().ShouldBe("unassigned");
        (await _s.GetAsync($"/api/v1/teams/{t.Id}/agents")).Json.AsArray().Count.ShouldBe(2);
    }

    [Fact]
    public async Task Settings_are_validated_and_null_clears_a_limit()
    {
        var t = await _s.TeamAsync();
        var path = $"/api/v1/settings/teams/{t.Id}";
        (await _s.GetAsync(path)).ShouldBe(HttpStatusCode.OK).Json["daily_cost_limit_usd"].ShouldBeNull();
        (await _s.PatchAsync(path, """{"daily_cost_limit_usd": 10.00, "max_concurrent_agents": 3}""")).ShouldBe(HttpStatusCode.OK);
        var before = await _s.FingerprintAsync();
        var bad = (await _s.PatchAsync(path, """{"daily_cost_limit_usd": -1, "max_concurrent_agents": 100000, "merge_strategy": "yolo"}""")).ShouldBe(HttpStatusCode.UnprocessableEntity).Json;
        bad["errors"]!.AsObject().Select(kv => kv.Key).ShouldBe(["daily_cost_limit_usd", "max_concurrent_agents", "merge_strategy"], ignoreOrder: true);
        (await _s.PatchAsync(path, """{"max_concurent_agents": 3}""")).ShouldBe(HttpStatusCode.BadRequest).Text.ShouldContain("max_concurent_agents");
        (await _s.PatchAsync(path, """{"max_concurrent_agents": "many"}""")).ShouldBe(HttpStatusCode.BadRequest);
        // An unpaired surrogate escape parses as JSON but is not text: 400, not 500 (found by the REST fuzz).
        (await _s.PatchAsync(path, """{"check_command": "\ud800 lone", "title": "\udc00"}""")).ShouldBe(HttpStatusCode.BadRequest).Text.ShouldContain("surrogate");
        // PostgreSQL text cannot hold U+0000: refused at the door on both stores, not a 500 at the write.
        var nul = (await _s.PatchAsync(path, """{"check_command": "make\u0000test"}""")).ShouldBe(HttpStatusCode.BadRequest).Json;
        const string nulFix = "Text may not contain the NUL character (\\u0000); remove it.";
        nul["detail"]!.GetValue<string>().ShouldBe($"Field 'check_command' is invalid: {nulFix}");
        nul["errors"]!["check_command"]!.AsArray().Select(m => m!.GetValue<string>()).ShouldBe([nulFix]);
        (await _s.FingerprintAsync()).ShouldBe(before);

        var cleared = (await _s.PatchAsync(path, """{"daily_cost_limit_usd": null}""")).ShouldBe(HttpStatusCode.OK).Json;
        cleared["daily_cost_limit_usd"].ShouldBeNull();
        cleared["max_concurrent_agents"]!.GetValue<int>().ShouldBe(3); // absent: unchanged
        (await _s.GetAsync("/api/v1/settings/teams/00000000-0000-0000-0000-000000000001")).ShouldBe(HttpStatusCode.NotFound);
    }
}

public sealed class MessagesContractSqlite() : MessagesContract(Store.Sqlite);

public sealed class MessagesContractPostgres() : MessagesContract(Store.Postgres);
