using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Messages;

/// <summary>
/// The common shape of <see cref="SendMessage"/> (a valid message to an agent named by id or name, from a person or
/// another agent, not linked to a task) as three hand-written statements in one transaction: resolve the agents,
/// insert the message, insert its dispatch request. It is the first half of "message → turn claimed", and through
/// EF it cost 3–6 ms of CPU per message on a 2-core machine for statements the store runs in microseconds.
/// <para>
/// Anything else returns null having written nothing (an unknown recipient, an invalid field, a task link that
/// needs its timeline entry), and <see cref="SendMessage"/> then handles the request in full, with the same
/// answers and errors as ever. Rows are the ones the EF path writes, and so are the change events.
/// </para>
/// </summary>
internal static class QuickSend
{
    private const string ResolveSql = """
        SELECT id, name, adapter, config_json FROM agents
         WHERE team_id = @team AND (id = @recipient_id OR name = @recipient_name OR id = @sender_id OR name = @sender_name)
        """;

    private const string InsertMessageSql = """
        INSERT INTO messages (team_id, sender_id, sender_name, recipient_id, task_id, body, created_at, read_at)
        VALUES (@team, @sender, @sender_name, @recipient, NULL, @body, @now, NULL)
        RETURNING id
        """;

    private const string InsertRequestSql = """
        INSERT INTO dispatch_requests (agent_id, team_id, reason, ref, task_id, state, priority, attempts, owner, lease_until, turn_id, last_error, created_at, updated_at)
        VALUES (@agent, @team, @reason, @ref, NULL, @state, 0, 0, NULL, NULL, NULL, NULL, @now, @now)
        RETURNING id
        """;

    // PostgreSQL: all three in one statement (one round trip, its own transaction). The message is inserted only
    // if the recipient (and the sender, when one is named) resolve and differ; otherwise nothing is written and no
    // row comes back. The display name of a person sender is the caller's (@by_name).
    /// <summary>
    /// The message's part of <see cref="PostgresSql"/> (and of <see cref="QuickSendClaim"/>'s statement): the agents
    /// resolved (<c>ok</c>, empty unless both resolve and differ) and the message inserted (<c>m</c>).
    /// </summary>
    internal const string MessageCtes = """
        WITH rcpt AS (SELECT id, name FROM agents WHERE team_id = @team AND (id = @recipient_id OR name = @recipient_name) LIMIT 1),
             snd AS (SELECT id, name FROM agents WHERE team_id = @team AND (id = @sender_id OR name = @sender_name) LIMIT 1),
             ok AS (SELECT rcpt.id AS rid, rcpt.name AS rname, snd.id AS sid, snd.name AS sname
                      FROM rcpt LEFT JOIN snd ON TRUE
                     WHERE (@has_sender = FALSE OR snd.id IS NOT NULL) AND (snd.id IS NULL OR snd.id <> rcpt.id)),
             m AS (INSERT INTO messages (team_id, sender_id, sender_name, recipient_id, task_id, body, created_at, read_at)
                   SELECT @team, ok.sid, COALESCE(ok.sname, @by_name), ok.rid, NULL, @body, @now, NULL FROM ok
                   RETURNING id, recipient_id),
        """;

    private const string PostgresSql = MessageCtes + """
             d AS (INSERT INTO dispatch_requests (agent_id, team_id, reason, ref, task_id, state, priority, attempts, owner, lease_until, turn_id, last_error, created_at, updated_at)
                   SELECT m.recipient_id, @team, 'message', m.id::text, NULL, 'pending', 0, 0, NULL, NULL, NULL, NULL, @now, @now FROM m
                   RETURNING id)
        SELECT m.id, d.id, ok.rid, ok.rname, ok.sid, ok.sname FROM m CROSS JOIN d CROSS JOIN ok
        """;

    internal sealed record Ref(Guid? Id, string? Name)
    {
        public static Ref Of(string text) => Guid.TryParse(text, out var g) ? new(g, null) : new(null, text);

        public bool Matches(Guid id, string name) => Id is { } g ? g == id : Name == name;
    }

    public static async Task<MessageDto?> TryAsync(AppDbContext db, Guid teamId, SendMessageRequest request, Actor actor, TimeProvider clock, CancellationToken ct)
    {
        if (request.TaskId is not null || string.IsNullOrWhiteSpace(request.RecipientId)) return null;
        if (string.IsNullOrWhiteSpace(request.Body) || request.Body.Length > SendMessage.MaxBody) return null;
        if (request.SenderName is { Length: > SendMessage.MaxSenderName }) return null;
        if (request.SenderId is not null && (string.IsNullOrWhiteSpace(request.SenderId) || request.SenderName is not null)) return null;
        var to = Ref.Of(request.RecipientId.Trim());
        var from = request.SenderId is { } s ? Ref.Of(s.Trim()) : null;

        return db.IsPostgres
            ? await SendOnPostgresAsync(db, teamId, request, to, from, actor, clock, ct)
            : await SendOnSqliteAsync(db, teamId, request, to, from, actor, clock, ct);
    }

    private static async Task<MessageDto?> SendOnSqliteAsync(AppDbContext db, Guid teamId, SendMessageRequest request, Ref to, Ref? from, Actor actor, TimeProvider clock, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        (Guid Id, string Name, string Adapter, string Config)? recipient = null, sender = null;
        await using (var resolve = db.Command(ResolveSql)
            .With("team", teamId).With("recipient_id", to.Id).With("recipient_name", to.Name)
            .With("sender_id", from?.Id).With("sender_name", from?.Name))
        await using (var r = await resolve.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct))
            {
                var (id, name) = (r.Guid(0), r.GetString(1));
                if (recipient is null && to.Matches(id, name)) recipient = (id, name, r.GetString(2), r.GetString(3));
                if (sender is null && from is not null && from.Matches(id, name)) sender = (id, name, r.GetString(2), r.GetString(3));
            }
        // Unresolved or self-addressed: the full path explains what is wrong (the transaction rolls back unused).
        if (recipient is not { } rcpt || (from is not null && sender is null) || sender?.Id == rcpt.Id) return null;

        var by = sender is { } a ? Actor.ForAgent(a.Id, a.Name) : SendMessage.PersonSender(actor, request);
        var now = clock.GetUtcNow().UtcDateTime;
        long messageId, requestId;
        await using (var insert = db.Command(InsertMessageSql)
            .With("team", teamId).With("sender", sender?.Id).With("sender_name", by.Name)
            .With("recipient", rcpt.Id).With("body", request.Body).With("now", now))
            messageId = Convert.ToInt64(await insert.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
        // The dispatch request commits with its message (DispatchRequests.Enqueue's rule), never on its own.
        await using (var enqueue = db.Command(InsertRequestSql)
            .With("agent", rcpt.Id).With("team", teamId).With("reason", DispatchReason.Message)
            .With("ref", messageId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .With("state", DispatchState.Pending).With("now", now))
            requestId = Convert.ToInt64(await enqueue.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
        // With a free slot here and the recipient's CLI installed, its turn is claimed in this transaction (the
        // dispatcher's own claim, limits and all), so it commits with the message: no wake-up, no second transaction.
        using var slot = db.Changes().Slots?.Reserve();
        var (_, claimed, taskChanges) = slot is not null && slot.Installed(rcpt.Adapter, rcpt.Config)
            ? await slot.ClaimInTransactionAsync(db, new ClaimCandidate(rcpt.Id, teamId, rcpt.Adapter, rcpt.Config), ct)
            : default;
        await tx.CommitAsync(ct);
        Publish(db, teamId, messageId, requestId);
        if (claimed is not null)
        {
            Claimer.Publish(db, claimed, taskChanges);
            slot!.Start(claimed);
        }
        return new MessageDto(messageId, teamId, sender?.Id, by.Name, rcpt.Id, rcpt.Name, null, request.Body!, now, null);
    }

    private static async Task<MessageDto?> SendOnPostgresAsync(AppDbContext db, Guid teamId, SendMessageRequest request, Ref to, Ref? from, Actor actor, TimeProvider clock, CancellationToken ct)
    {
        var personName = SendMessage.PersonSender(actor, request).Name;
        // With a free slot here, the recipient's turn is claimed in the message's own statement.
        if (db.Changes().Slots?.Reserve() is { } slot)
        {
            using (slot)
            {
                try
                {
                    return await QuickSendClaim.SendAsync(db, teamId, request, to, from, personName, slot, clock, ct);
                }
                catch (Exception ex) when (Claimer.IsUniqueViolation(ex))
                {
                    // Another node started the recipient's turn meanwhile; nothing was written. Send it plainly.
                }
            }
        }
        // No free slot here (or another node won the recipient): the request is inserted pending and its NOTIFY
        // rings every node's dispatcher.
        var now = clock.GetUtcNow().UtcDateTime;
        return await db.OnOpenConnectionAsync(async () =>
        {
            await using var cmd = BindMessage(db.Command(PostgresSql), teamId, to, from, personName, request.Body!, now);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct)) return (MessageDto?)null;
            var (messageId, requestId) = (r.GetInt64(0), r.GetInt64(1));
            var (recipientId, recipientName, senderId, senderName) = (r.Guid(2), r.GetString(3), r.NullableGuid(4), r.NullableString(5));
            await r.DisposeAsync();
            Publish(db, teamId, messageId, requestId);
            return new MessageDto(messageId, teamId, senderId, senderName ?? personName, recipientId, recipientName, null, request.Body!, now, null);
        }, ct);
    }

    /// <summary>The parameters of <see cref="MessageCtes"/>.</summary>
    internal static System.Data.Common.DbCommand BindMessage(System.Data.Common.DbCommand cmd, Guid teamId, Ref to, Ref? from, string personName, string body, DateTime now) => cmd
        .With("team", teamId).With("recipient_id", to.Id).With("recipient_name", to.Name)
        .With("sender_id", from?.Id).With("sender_name", from?.Name).With("has_sender", from is not null)
        .With("by_name", personName).With("body", body).With("now", now);

    /// <summary>
    /// After the commit, in the order the EF path publishes them: the message, then the request that rings the
    /// dispatcher's doorbell.
    /// </summary>
    internal static void Publish(AppDbContext db, Guid teamId, long messageId, long requestId)
    {
        var changes = db.Changes();
        changes.PublishRaw("message", messageId.ToString(System.Globalization.CultureInfo.InvariantCulture), teamId, "added");
        changes.PublishRaw("dispatch_request", requestId.ToString(System.Globalization.CultureInfo.InvariantCulture), teamId, "added");
    }
}
