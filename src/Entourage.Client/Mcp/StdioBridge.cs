using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Entourage.Client.Mcp;

/// <summary>
/// `entourage mcp`: an MCP server on stdin/stdout that forwards every JSON-RPC message to the Entourage server's
/// Streamable HTTP endpoint (/mcp) and every reply, progress notification and error back. It works at the
/// transport level with the official SDK's transports, so whatever the server offers (tools, progress, new
/// protocol revisions) passes through unchanged, and the identity is the bearer token, exactly as over HTTP.
/// </summary>
public static class StdioBridge
{
    /// <summary>Header naming the agent an operator API key acts for (agent tokens name themselves).</summary>
    public const string ActAsAgentHeader = "X-Entourage-Agent";

    /// <summary>
    /// Runs until stdin ends or <paramref name="ct"/> fires. <paramref name="serverUrl"/> is the server's base
    /// URL (http://localhost:8000) or its /mcp endpoint; <paramref name="token"/> is an agent token (or an API
    /// key together with <paramref name="actAsAgent"/>).
    /// </summary>
    public static async Task RunAsync(string serverUrl, string token, Stream stdin, Stream stdout, CancellationToken ct, string? actAsAgent = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serverUrl);
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        var headers = new Dictionary<string, string> { ["Authorization"] = "Bearer " + token };
        if (!string.IsNullOrWhiteSpace(actAsAgent)) headers[ActAsAgentHeader] = actAsAgent;

        // A wait_for_task_completion call may legitimately last an hour: no client-side timeout.
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var options = new HttpClientTransportOptions
        {
            Endpoint = McpEndpoint(serverUrl),
            TransportMode = HttpTransportMode.StreamableHttp,
            // The server is stateless: it has no standalone GET stream to open.
            EnableStandaloneGetStream = false,
            AdditionalHeaders = headers,
            Name = "entourage",
        };

        await using var local = new StreamServerTransport(stdin, stdout, "entourage");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await using (var upstream = new UpstreamSessions(options, http, local, stop.Token))
        {
            try
            {
                // Runs until stdin ends (the client closed it) or ct fires.
                await PumpUpAsync(local, upstream, stop.Token);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
            await stop.CancelAsync();
        }
    }

    /// <summary>Accepts "http://host:port", "http://host:port/" or the full ".../mcp" address.</summary>
    public static Uri McpEndpoint(string serverUrl)
    {
        var trimmed = serverUrl.TrimEnd('/');
        return new Uri(trimmed.EndsWith("/mcp", StringComparison.OrdinalIgnoreCase) ? trimmed : trimmed + "/mcp");
    }

    // Client → server. Each message is sent on its own task: over HTTP a send lasts until its reply arrives, and
    // a long wait must not hold up a tools/list or a cancellation sent meanwhile.
    private static async Task PumpUpAsync(ITransport local, UpstreamSessions upstream, CancellationToken ct)
    {
        var inFlight = new ConcurrentDictionary<RequestId, CancellationTokenSource>();
        var sends = new List<Task>();
        try
        {
            await foreach (var message in local.MessageReader.ReadAllAsync(ct))
            {
                sends.RemoveAll(t => t.IsCompleted);
                // The server is stateless: a notifications/cancelled POSTed separately reaches no running call.
                // Aborting the HTTP request that carries the call is what stops it there (and frees the wait).
                if (CancelledRequestId(message) is { } cancelled && inFlight.TryRemove(cancelled, out var abort))
                    await TryCancelAsync(abort);
                sends.Add(ForwardAsync(message, local, upstream.For(message), inFlight, ct));
            }
        }
        finally
        {
            // stdin ended: the client is gone and nobody is left to read an answer, so stop every call at once
            // rather than keep the process alive for an hour-long wait.
            foreach (var abort in inFlight.Values) await TryCancelAsync(abort);
            await Task.WhenAll(sends);
        }
    }

    private static async Task ForwardAsync(JsonRpcMessage message, ITransport local, Task<ITransport> session,
        ConcurrentDictionary<RequestId, CancellationTokenSource> inFlight, CancellationToken ct)
    {
        var request = message as JsonRpcRequest;
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (request is not null) inFlight[request.Id] = abort;
        try
        {
            var remote = await session;
            await remote.SendMessageAsync(message, abort.Token);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // Cancelled by the client (it expects no answer) or the bridge is stopping.
        }
        catch (Exception ex) when (ex is HttpRequestException or McpException or IOException or InvalidOperationException)
        {
            // A request must always get an answer, or the client hangs: turn the HTTP failure into a JSON-RPC error.
            if (request is not null && !ct.IsCancellationRequested)
                await local.SendMessageAsync(new JsonRpcError
                {
                    Id = request.Id,
                    Error = new JsonRpcErrorDetail { Code = (int)McpErrorCode.InternalError, Message = Explain(ex) },
                }, ct);
        }
        finally
        {
            if (request is not null) inFlight.TryRemove(new KeyValuePair<RequestId, CancellationTokenSource>(request.Id, abort));
        }
    }

    private static async Task TryCancelAsync(CancellationTokenSource abort)
    {
        try { await abort.CancelAsync(); }
        catch (ObjectDisposedException) { } // the call finished meanwhile
    }

    private static RequestId? CancelledRequestId(JsonRpcMessage message)
    {
        if (message is not JsonRpcNotification { Method: NotificationMethods.CancelledNotification, Params: { } p }) return null;
        try
        {
            return p.Deserialize<CancelledNotificationParams>(McpJsonUtilities.DefaultOptions)?.RequestId;
        }
        catch (JsonException)
        {
            return null; // malformed: forward it untouched and let the server say so
        }
    }

    private static string Explain(Exception ex) => ex switch
    {
        HttpRequestException { StatusCode: HttpStatusCode.Unauthorized } =>
            "The Entourage server refused the token (401). Check ENTOURAGE_AGENT_TOKEN, or rotate the agent's token with POST /api/v1/agents/{id}/token/rotate.",
        HttpRequestException { StatusCode: HttpStatusCode.Forbidden } =>
            "The Entourage server refused this request (403): " + ex.Message,
        HttpRequestException { StatusCode: null } =>
            "Cannot reach the Entourage server: " + ex.Message + ". Is `entourage serve` running at that address?",
        _ => "Entourage bridge error: " + ex.Message,
    };
}
