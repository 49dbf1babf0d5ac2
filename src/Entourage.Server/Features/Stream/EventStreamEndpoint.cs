using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Teams;
using Entourage.Server.Storage;

namespace Entourage.Server.Features.Stream;

/// <summary>
/// GET /api/v1/events/stream[?team_id=uuid|slug]: the server's change feed as server-sent events, the same
/// stream the dashboard renders from. Subscribed before the response starts, so a client that reads state
/// after the "ready" event misses nothing.
/// </summary>
public static class EventStreamEndpoint
{
    /// <summary>Idle connections get a ping this often, so proxies and clients can tell a quiet stream from a dead one.</summary>
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(20);

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/events/stream", Handle)
            .WithTags("Events")
            .WithSummary("Live change events (text/event-stream), optionally only one team's.");

    private static async Task<IResult> Handle(string? team_id, AppDbContext db, ChangeFeed feed, TimeProvider clock, Security.RequestCaller caller,
        Microsoft.EntityFrameworkCore.IDbContextFactory<AppDbContext> factory, CancellationToken ct)
    {
        Guid? teamId = null;
        if (team_id is not null)
        {
            if (string.IsNullOrWhiteSpace(team_id))
                throw Hosting.ApiProblem.Invalid("team_id", "Give a team's uuid or slug, or leave team_id out for every team.");
            teamId = (await TeamEndpoints.FindAsync(db, team_id.Trim(), ct)).Id;
        }
        var subscription = feed.Subscribe();
        var visible = new Security.VisibleTeams(caller, factory);
        return TypedResults.ServerSentEvents(ReadAsync(subscription, teamId, visible, feed.LastSeq, clock, ct));
    }

    private static async IAsyncEnumerable<SseItem<ChangeEventDto>> ReadAsync(
        ChangeFeed.Subscription subscription, Guid? teamId, Security.VisibleTeams visible, long startSeq, TimeProvider clock, [EnumeratorCancellation] CancellationToken ct)
    {
        using (subscription)
        {
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
                {
                    if (teamId is not null && e.TeamId != teamId) continue;
                    if (!await visible.ContainsAsync(e.TeamId, ct)) continue; // an org key sees its org, an agent token its team
                    yield return new SseItem<ChangeEventDto>(new ChangeEventDto(e.Kind, e.Id, e.TeamId, e.Op, e.Seq, e.At), e.Kind)
                    {
                        EventId = e.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    };
                }
            }
        }
    }

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
