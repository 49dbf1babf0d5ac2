using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;

namespace Entourage.Server.Features.Messages;

/// <summary>
/// PostgreSQL: the common message (<see cref="QuickSend"/>) and its recipient's turn in one statement, when this node
/// holds a free slot (<see cref="TurnSlots.Reserve"/>). The message's dispatch request is inserted already claimed,
/// with the agent's other pending requests, and the running turn beside them, when the message variant of the
/// one-statement claim would have claimed (<see cref="QuickClaim.MessageClaimConditionSql"/>: no running turn, no
/// task work, no task in progress, a team without limits, an agent placed on no runner); otherwise it is inserted
/// pending and the dispatcher sees to it, as before. The claim is the same claim, made in the writer's transaction:
/// the message, its request and its turn commit together, one WAL flush, with no dispatcher wake-up and no second
/// round trip between a message and the turn that reads it. A pending insert rings every node (the trigger's
/// NOTIFY); one inserted claimed rings none, since no node has anything to do.
/// </summary>
internal static class QuickSendClaim
{
    private const string Recipient = "(SELECT ok.rid FROM ok)";

    private static readonly string Sql = QuickSend.MessageCtes + $"""
             p AS (SELECT r.id, r.reason, r.task_id FROM dispatch_requests r
                    WHERE r.agent_id = {Recipient} AND r.state = 'pending'
                    ORDER BY r.priority, r.id
                    FOR UPDATE SKIP LOCKED),
             k AS ({QuickClaim.MessageClaimConditionSql(Recipient)}
                      AND EXISTS (SELECT 1 FROM m)),
             c AS (UPDATE dispatch_requests
                      SET state = 'claimed', owner = @node, lease_until = @lease, turn_id = @turn, updated_at = @now
                    WHERE id IN (SELECT p.id FROM p) AND EXISTS (SELECT 1 FROM k)
                   RETURNING {ClaimQueries.ClaimColumns}),
             d AS (INSERT INTO dispatch_requests (agent_id, team_id, reason, ref, task_id, state, priority, attempts, owner, lease_until, turn_id, last_error, created_at, updated_at)
                   SELECT m.recipient_id, @team, 'message', m.id::text, NULL, CASE WHEN g.go THEN 'claimed' ELSE 'pending' END, 0, 0,
                          CASE WHEN g.go THEN @node END, CASE WHEN g.go THEN @lease END, CASE WHEN g.go THEN @turn END, NULL, @now, @now
                     FROM m CROSS JOIN (SELECT EXISTS (SELECT 1 FROM k) AS go) g
                   RETURNING {ClaimQueries.ClaimColumns}),
             t AS (INSERT INTO turns ({ClaimQueries.TurnColumns})
                   SELECT @turn, d.agent_id, @team, NULL, 'running', @node, COALESCE((SELECT MAX(c.attempts) FROM c), 0) + 1, {QuickClaim.StartedAtSql("d.agent_id")}, NULL, @now, @lease,
                          NULL, NULL, NULL, NULL, '', 0, 0, 0, 0, 0, @token_hash
                     FROM d WHERE d.state = 'claimed'
                   RETURNING attempt)
        SELECT m.id, d.id, ok.rid, ok.rname, ok.sid, ok.sname, t.attempt, a.adapter, a.config_json, x.*
          FROM m CROSS JOIN d CROSS JOIN ok
          LEFT JOIN t ON TRUE
          LEFT JOIN agents a ON a.id = ok.rid AND t.attempt IS NOT NULL
          LEFT JOIN (SELECT {ClaimQueries.ClaimColumns} FROM c UNION ALL SELECT {ClaimQueries.ClaimColumns} FROM d WHERE d.state = 'claimed') x
                 ON t.attempt IS NOT NULL
        """;

    /// <summary>
    /// Sends the message and, when the statement claimed, starts the turn in <paramref name="slot"/>. Null when the
    /// message was not written (unknown or self-addressed agents: <see cref="SendMessage"/> explains).
    /// </summary>
    /// <exception cref="Npgsql.PostgresException">A unique violation: another node started a turn of the recipient meanwhile; nothing was written.</exception>
    public static async Task<MessageDto?> SendAsync(AppDbContext db, Guid teamId, SendMessageRequest request, QuickSend.Ref to, QuickSend.Ref? from,
        string personName, TurnSlots.Slot slot, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var turn = slot.NewTurn(now);
        return await db.OnOpenConnectionAsync(async () =>
        {
            await using var cmd = QuickSend.BindMessage(db.Command(Sql), teamId, to, from, personName, request.Body!, now)
                .With("node", turn.Node).With("lease", turn.Lease).With("turn", turn.Id).With("token_hash", turn.Hash);
            MessageDto? sent = null;
            long requestId = 0;
            int? attempt = null;
            string? adapter = null, config = null;
            var claimed = new List<DispatchRequest>();
            await using (var r = await cmd.ExecuteReaderAsync(ct))
                while (await r.ReadAsync(ct))
                {
                    if (sent is null)
                    {
                        requestId = r.GetInt64(1);
                        sent = new MessageDto(r.GetInt64(0), teamId, r.NullableGuid(4), r.NullableString(5) ?? personName, r.Guid(2), r.GetString(3), null, request.Body!, now, null);
                        if (!r.IsDBNull(6)) (attempt, adapter, config) = (r.GetInt32(6), r.GetString(7), r.GetString(8));
                    }
                    if (attempt is not null) claimed.Add(ClaimQueries.ReadRequest(r, at: 9));
                }
            if (sent is null) return null;
            if (attempt is not { } a || !slot.Installed(adapter!, config!))
            {
                // Not claimable here: a busy agent or a limited team (pending, and the NOTIFY rang every node), or a CLI
                // this node lacks (the claim given back at once; going back to pending rings them too).
                if (attempt is null) slot.Dispose();
                else
                {
                    await QuickClaim.UnclaimAsync(db, turn.Id, now, ct);
                    slot.GivenBack();
                }
                QuickSend.Publish(db, teamId, sent.Id, requestId);
                return sent;
            }
            var agent = new ClaimCandidate(sent.RecipientId, teamId, adapter!, config!, TaskWork: false);
            var started = ClaimQueries.Bind(turn, agent, null, a, claimed);
            QuickSend.Publish(db, teamId, sent.Id, requestId);
            Claimer.Publish(db, started, null);
            slot.Start(started);
            return sent;
        }, ct);
    }
}
