using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Entourage.Client.Mcp;

/// <summary>
/// The bridge's HTTP side: one Streamable HTTP session to /mcp per client handshake. The SDK's HTTP transport pins
/// the MCP-Protocol-Version header to the first version a request names, and the official client first probes with
/// `server/discover` (2026-07-28) and, when the probe is refused or slow, falls back to `initialize` with an older
/// version. Sent on the probe's session that `initialize` is refused (400: header and body disagree), so every
/// `initialize` or `server/discover` starts a fresh session; later messages go to the newest one. Replies of every
/// session are forwarded to stdout.
/// </summary>
internal sealed class UpstreamSessions(HttpClientTransportOptions options, HttpClient http, ITransport local, CancellationToken ct) : IAsyncDisposable
{
    private readonly List<(ITransport Transport, Task Pump)> _sessions = [];
    private Task<ITransport>? _current;

    /// <summary>
    /// The session <paramref name="message"/> goes to. Called in message order from one loop and returns at once
    /// (the task completes when the session is connected), so a message never overtakes the handshake before it.
    /// </summary>
    public Task<ITransport> For(JsonRpcMessage message)
    {
        var handshake = message is JsonRpcRequest { Method: RequestMethods.Initialize or RequestMethods.ServerDiscover };
        if (_current is null || handshake) _current = ConnectAsync();
        return _current;
    }

    private async Task<ITransport> ConnectAsync()
    {
        var transport = await new HttpClientTransport(options, http).ConnectAsync(ct);
        lock (_sessions) _sessions.Add((transport, PumpAsync(transport)));
        return transport;
    }

    private async Task PumpAsync(ITransport remote)
    {
        try
        {
            await foreach (var message in remote.MessageReader.ReadAllAsync(ct))
                await local.SendMessageAsync(message, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The bridge is stopping.
        }
        catch (IOException)
        {
            // stdout closed: the client is gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<(ITransport Transport, Task Pump)> sessions;
        lock (_sessions) sessions = [.. _sessions];
        foreach (var (transport, _) in sessions) await transport.DisposeAsync();
        await Task.WhenAll(sessions.Select(s => s.Pump));
    }
}
