using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Teams;
using Entourage.Server.Storage;

namespace Entourage.Server.Features.Stream;

/// <summary>
/// GET /api/v1/events/stream[?team_id=uuid|slug]: the server's change feed as server-sent events, the same
/// stream the dashboard renders from. Subscribed before the response starts, so a client that reads state
/// after the "ready" event misses nothing. A client that reconnects with <c>Last-Event-ID</c> (as EventSource does)
/// first gets the events it missed, then "ready"; when they are gone (too long ago, or the server restarted since),
/// a "reset" event says to re-read state.
/// </summary>
public static class EventStreamEndpoint
{
    /// <summary>Idle connections get a ping this often, so proxies and clients can tell a quiet stream from a dead one.</summary>
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(20);

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/events/stream", Handle)
            .WithTags("Events")
            .WithSummary("Live change events (text/event-stream), optionally only one team's.");

    private static async Task<IResult> Handle(string? team_id, HttpRequest request, AppDbContext db, ChangeFeed feed, TimeProvider clock, Security.RequestCaller caller,
        Microsoft.EntityFrameworkCore.IDbContextFactory<AppDbContext> factory, CancellationToken ct)
    {
        Guid? teamId = null;
        if (team_id is not null)
        {
            if (string.IsNullOrWhiteSpace(team_id))
                throw Hosting.ApiProblem.Invalid("team_id", "Give a team's uuid or slug, or leave team_id out for every team.");
            teamId = (await TeamEndpoints.FindAsync(db, team_id.Trim(), ct)).Id;
        }
        // An id this server cannot have sent (not a number) is treated like one from before a restart: reset.
        long? after = request.Headers["Last-Event-ID"].FirstOrDefault() is { Length: > 0 } last
            ? long.TryParse(last, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seq) ? seq : -1
            : null;
        var subscription = feed.Subscribe(1024, after, out var missed);
        var visible = new Security.VisibleTeams(caller, factory);
        return TypedResults.ServerSentEvents(ReadAsync(subscription, teamId, visible, feed.LastSeq, missed, clock, ct));
    }

    private static async IAsyncEnumerable<SseItem<ChangeEventDto>> ReadAsync(ChangeFeed.Subscription subscription, Guid? teamId,
        Security.VisibleTeams visible, long startSeq, List<ChangeEvent>? missed, TimeProvider clock, [EnumeratorCancellation] CancellationToken ct)
    {
        using (subscription)
        {
            if (missed is null)
                yield return new SseItem<ChangeEventDto>(new ChangeEventDto("reset", "", teamId, "replay_unavailable", startSeq, clock.GetUtcNow().UtcDateTime), "reset");
            foreach (var e in missed ?? [])
                if (await ShownAsync(e, teamId, visible, ct)) yield return Item(e);
            yield return new SseItem<ChangeEventDto>(new ChangeEventDto("ready", "", teamId, "subscribed", startSeq, clock.GetUtcNow().UtcDateTime), "ready")
            {
                EventId = startSeq.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            var reader = subscription.Reader;
            while (true)
            {
                var wake = await WaitAsync(reader, clock, ct);
                if (wake is Wake.Closed) yield break;
                if (wake is Wake.Ping)
                {
                    yield return new SseItem<ChangeEventDto>(new ChangeEventDto("ping", "", teamId, "ping", 0, clock.GetUtcNow().UtcDateTime), "ping");
                    continue;
                }
                while (reader.TryRead(out var e))
                    if (await ShownAsync(e, teamId, visible, ct)) yield return Item(e);
            }
        }
    }

    // The chosen team's only; an org key sees its org, an agent token its team.
    private static async Task<bool> ShownAsync(ChangeEvent e, Guid? teamId, Security.VisibleTeams visible, CancellationToken ct) =>
        (teamId is null || e.TeamId == teamId) && await visible.ContainsAsync(e.TeamId, ct);

    private static SseItem<ChangeEventDto> Item(ChangeEvent e) => new(new ChangeEventDto(e.Kind, e.Id, e.TeamId, e.Op, e.Seq, e.At), e.Kind)
    {
        EventId = e.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private enum Wake { Data, Ping, Closed }

    // A separate method because C# iterators cannot yield inside try/catch: a client going away ends the stream
    // quietly instead of surfacing as an error.
    private static async Task<Wake> WaitAsync(System.Threading.Channels.ChannelReader<ChangeEvent> reader, TimeProvider clock, CancellationToken ct)
    {
        using var ping = CancellationTokenSource.CreateLinkedTokenSource(ct);
        ping.CancelAfter(PingInterval);
        try
        {
            return await reader.WaitToReadAsync(ping.Token) ? Wake.Data : Wake.Closed;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return Wake.Ping;
        }
        catch (OperationCanceledException)
        {
            return Wake.Closed;
        }
    }
}
