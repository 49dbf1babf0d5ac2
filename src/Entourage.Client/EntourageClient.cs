using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Entourage.Client.Http;

namespace Entourage.Client;

/// <summary>
/// Typed client for the Entourage REST API (/api/v1), used by the CLI and the tests. One method per endpoint,
/// grouped by resource in <c>Http/EntourageClient.*.cs</c>. Errors surface as <see cref="EntourageApiException"/>
/// (the server's problem details) or <see cref="EntourageUnreachableException"/> (nothing answered).
/// </summary>
public sealed partial class EntourageClient : IDisposable
{
    public const string DefaultUrl = "http://localhost:8000";

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    public Uri BaseUrl { get; }

    /// <param name="baseUrl">Server root, e.g. http://localhost:8000 (a path prefix is kept).</param>
    /// <param name="token">An API key or agent token, sent as a bearer token when set.</param>
    public EntourageClient(Uri baseUrl, string? token = null, HttpMessageHandler? handler = null)
        : this(CreateHttp(baseUrl, token, handler), ownsHttp: true)
    {
    }

    /// <summary>Wraps an existing HttpClient whose BaseAddress is the server root.</summary>
    public EntourageClient(HttpClient http) : this(http, ownsHttp: false)
    {
    }

    private EntourageClient(HttpClient http, bool ownsHttp)
    {
        _http = http;
        _ownsHttp = ownsHttp;
        BaseUrl = http.BaseAddress ?? throw new ArgumentException("The HttpClient needs a BaseAddress.", nameof(http));
    }

    private static HttpClient CreateHttp(Uri baseUrl, string? token, HttpMessageHandler? handler)
    {
        // Long calls (tasks/wait, SSE streams) are bounded by their cancellation token, not a global timeout;
        // a dead address still fails fast through the connect timeout.
        handler ??= new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) };
        var root = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
        var http = new HttpClient(handler) { BaseAddress = root, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("entourage-cli", typeof(EntourageClient).Assembly.GetName().Version?.ToString() ?? "0"));
        if (!string.IsNullOrEmpty(token)) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }

    // ---- raw access, for endpoints a caller wants verbatim (the CLI's --json) ----

    /// <summary>GETs a path under the server root (e.g. "api/v1/orgs") and returns the JSON as sent.</summary>
    public Task<JsonNode?> GetJsonAsync(string path, CancellationToken ct = default) => SendAsync<JsonNode?>(HttpMethod.Get, path, null, ct);

    /// <summary>Sends any JSON body to a path and returns the JSON answer (null for 204).</summary>
    public Task<JsonNode?> SendJsonAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct = default) => SendAsync<JsonNode?>(method, path, body, ct);

    /// <summary>Opens a streaming GET (server-sent events, live logs). The caller disposes the response.</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string path, CancellationToken ct = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var response = await SendRawAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
        {
            using (response) throw await ToApiExceptionAsync(response, ct);
        }
        return response;
    }

    internal Task<T> GetAsync<T>(string path, CancellationToken ct) => SendAsync<T>(HttpMethod.Get, path, null, ct);

    internal async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: ClientJson.Options);
        using var response = await SendRawAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        if (!response.IsSuccessStatusCode) throw await ToApiExceptionAsync(response, ct);
        if (response.StatusCode == HttpStatusCode.NoContent || response.Content.Headers.ContentLength == 0) return default!;
        return (await response.Content.ReadFromJsonAsync<T>(ClientJson.Options, ct))!;
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken ct)
    {
        try
        {
            return await _http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException ex) when (ex.StatusCode is null && IsConnectFailure(ex))
        {
            throw new EntourageUnreachableException(BaseUrl, ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            // The connect timeout, not the caller, cancelled.
            throw new EntourageUnreachableException(BaseUrl, ex);
        }
    }

    private static bool IsConnectFailure(HttpRequestException ex) =>
        ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError
        || ex.InnerException is SocketException;

    private static async Task<EntourageApiException> ToApiExceptionAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        string? title = null, detail = null;
        Dictionary<string, string[]>? errors = null;
        try
        {
            // JsonDocument rather than JsonNode: it tolerates a repeated key in a problem body.
            using var doc = JsonDocument.Parse(text);
            var problem = doc.RootElement;
            if (problem.ValueKind == JsonValueKind.Object)
            {
                title = problem.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                detail = problem.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                if (problem.TryGetProperty("errors", out var fields) && fields.ValueKind == JsonValueKind.Object)
                {
                    errors = [];
                    foreach (var field in fields.EnumerateObject())
                        errors[field.Name] = field.Value.ValueKind == JsonValueKind.Array
                            ? field.Value.EnumerateArray().Select(m => m.ValueKind == JsonValueKind.String ? m.GetString() ?? "" : m.GetRawText()).ToArray()
                            : [field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString() ?? "" : field.Value.GetRawText()];
                }
            }
        }
        catch (JsonException)
        {
            // Not problem details (a proxy's HTML page, say): keep the raw text as the detail.
            detail = text.Length > 300 ? text[..300] : text;
        }
        return new EntourageApiException(response.StatusCode, title ?? response.ReasonPhrase, detail, errors, text);
    }

    internal static string Esc(string segment) => Uri.EscapeDataString(segment);
}
