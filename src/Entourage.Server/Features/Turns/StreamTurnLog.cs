using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Turns;

/// <summary>
/// GET /turns/{id}/log/stream: the turn's log as server-sent events. <c>log</c> events carry new output as it is
/// flushed (from <c>?offset=</c>, default the beginning); a final <c>end</c> event carries the turn's state and
/// exit code. Woken by this node's change feed; a turn running on another node is re-read every second.
/// </summary>
public static class StreamTurnLog
{
    private static readonly TimeSpan CrossNodePoll = TimeSpan.FromSeconds(1);

    public static async Task<ServerSentEventsResult<string>> Handle(string turn_id, AppDbContext db, ChangeFeed feed, TimeProvider clock, CancellationToken ct, int? offset = null)
    {
        if (offset is < 0) throw ApiProblem.Invalid("offset", "Give a character offset of 0 or more (the length of the log you already have).");
        var turn = await TurnEndpoints.FindAsync(db, turn_id, ct);
        return TypedResults.ServerSentEvents(Events(turn.Id, offset ?? 0, db, feed, clock, ct));
    }

    private static async IAsyncEnumerable<SseItem<string>> Events(Guid turnId, int offset, AppDbContext db, ChangeFeed feed, TimeProvider clock, [EnumeratorCancellation] CancellationToken ct)
    {
        using var sub = feed.Subscribe(256);
        var id = turnId.ToString();
        while (!ct.IsCancellationRequested)
        {
            var from = offset;
            var now = await db.Turns.AsNoTracking().Where(t => t.Id == turnId)
                .Select(t => new { t.State, t.ExitCode, t.Error, Length = t.Log.Length, Tail = t.Log.Substring(from) })
                .FirstAsync(ct);
            if (now.Tail.Length > 0)
            {
                offset += now.Tail.Length;
                yield return new SseItem<string>(now.Tail.TrimEnd('\n'), "log") { EventId = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            }
            if (now.State != TurnState.Running)
            {
                yield return new SseItem<string>(JsonSerializer.Serialize(new { state = EnumNames.ToSnake(now.State), exit_code = now.ExitCode, error = now.Error }), "end");
                yield break;
            }
            await WaitForChangeAsync(sub, id, clock, ct);
        }
    }

    private static async Task WaitForChangeAsync(ChangeFeed.Subscription sub, string turnId, TimeProvider clock, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(CrossNodePoll);
        try
        {
            while (await sub.Reader.WaitToReadAsync(timeout.Token))
            {
                while (sub.Reader.TryRead(out var e))
                {
                    if (e.Kind == "turn" && e.Id == turnId) return;
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
    }
}
