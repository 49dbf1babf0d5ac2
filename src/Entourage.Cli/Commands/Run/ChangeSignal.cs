using System.Net;
using System.Net.ServerSentEvents;
using System.Threading.Channels;
using Entourage.Client;
using Entourage.Client.Http;

namespace Entourage.Cli.Commands.Run;

/// <summary>
/// Tells the live view when to re-read the team: on every event of the server's change stream
/// (GET /api/v1/events/stream?team_id=, server-sent events), or, on a server without that stream, on a modest
/// polling interval. Events carry no state the view trusts; it always re-reads.
/// </summary>
public sealed class ChangeSignal : IAsyncDisposable
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>Even with a live stream the view refreshes now and then (elapsed times, agent status).</summary>
    public static readonly TimeSpan StreamRefresh = TimeSpan.FromSeconds(5);

    private readonly Channel<bool> _signals = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private volatile bool _streaming;

    /// <summary>"events" while the SSE stream is connected, else "polling".</summary>
    public string Mode => _streaming ? "events" : "polling";

    public ChangeSignal(EntourageClient client, Guid teamId)
    {
        _reader = Task.Run(() => ReadStreamAsync(client, teamId, _stop.Token));
    }

    private async Task ReadStreamAsync(EntourageClient client, Guid teamId, CancellationToken ct)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var response = await client.OpenStreamAsync($"api/v1/events/stream?team_id={teamId}", ct);
                await using var stream = await response.Content.ReadAsStreamAsync(ct);
                _streaming = true;
                backoff = TimeSpan.FromSeconds(1);
                // Something may have changed between the last read and the connection.
                _signals.Writer.TryWrite(true);
                await foreach (var _ in SseParser.Create(stream).EnumerateAsync(ct))
                    _signals.Writer.TryWrite(true);
            }
            catch (EntourageApiException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
            {
                // This server has no change stream: polling it is.
                _streaming = false;
                return;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or EntourageUnreachableException or EntourageApiException)
            {
                // Dropped connection or a restarting server: poll meanwhile, reconnect with capped backoff.
            }
            _streaming = false;
            try { await Task.Delay(backoff, ct); } catch (OperationCanceledException) { return; }
            backoff = TimeSpan.FromSeconds(Math.Min(backoff.TotalSeconds * 2, 15));
        }
    }

    /// <summary>Returns when something changed, or after the refresh interval of the current mode.</summary>
    public async Task WaitAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_streaming ? StreamRefresh : PollInterval);
        try
        {
            await _signals.Reader.WaitToReadAsync(timeout.Token);
            _signals.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // The refresh interval passed.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _reader; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
