using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Entourage.Client.Contracts;
using Entourage.Server.Hosting;

namespace Entourage.Server.Runners.Http;

/// <summary>The server answered a runner call with an error; <see cref="Status"/> and the problem's detail say which.</summary>
public sealed class RunnerApiException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>The token was revoked or never existed, or is not allowed here: nothing this runner can retry.</summary>
    public bool Fatal => Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;

    /// <summary>The server no longer knows this node (or it was stopped): register again.</summary>
    public bool NodeGone => Status == HttpStatusCode.NotFound && Message.Contains("register again", StringComparison.Ordinal)
                            || Status == HttpStatusCode.Conflict && Message.Contains("register again", StringComparison.Ordinal);
}

/// <summary>
/// The runner protocol from the runner's side (docs/runners.md): one HttpClient with the runner token as bearer.
/// Answers are read leniently (a newer server may add fields); errors become <see cref="RunnerApiException"/>.
/// </summary>
public sealed class RunnerApiClient(HttpClient http)
{
    private static readonly JsonSerializerOptions Json = new(JsonDefaults.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip };

    public Uri? BaseAddress => http.BaseAddress;

    public async Task<RunnerRegistrationDto> RegisterAsync(RunnerRegisterRequest body, CancellationToken ct) =>
        (await ReadAsync<RunnerRegistrationDto>(await PostAsync("api/v1/runner/register", body, ct), ct))!;

    public async Task<RunnerHeartbeatResponse> HeartbeatAsync(RunnerHeartbeatRequest body, CancellationToken ct) =>
        (await ReadAsync<RunnerHeartbeatResponse>(await PostAsync("api/v1/runner/heartbeat", body, ct), ct))!;

    /// <summary>A long poll: the claimed turn, or null when the server had nothing within the wait.</summary>
    public async Task<TurnAssignment?> ClaimAsync(RunnerClaimRequest body, CancellationToken ct) =>
        await ReadAsync<TurnAssignment>(await PostAsync("api/v1/runner/claim", body, ct), ct);

    public async Task LogAsync(Guid turnId, RunnerLogRequest body, CancellationToken ct) =>
        await ReadAsync<object>(await PostAsync($"api/v1/runner/turns/{turnId}/log", body, ct), ct);

    public async Task WorkspaceAsync(Guid turnId, RunnerWorkspaceRequest body, CancellationToken ct) =>
        await ReadAsync<object>(await PostAsync($"api/v1/runner/turns/{turnId}/workspace", body, ct), ct);

    public async Task<RunnerCompleteResponse> CompleteAsync(Guid turnId, RunnerCompleteRequest body, CancellationToken ct) =>
        (await ReadAsync<RunnerCompleteResponse>(await PostAsync($"api/v1/runner/turns/{turnId}/complete", body, ct), ct))!;

    public async Task StopAsync(RunnerStopRequest body, CancellationToken ct) =>
        await ReadAsync<object>(await PostAsync("api/v1/runner/stop", body, ct), ct);

    private Task<HttpResponseMessage> PostAsync<T>(string path, T body, CancellationToken ct) =>
        http.PostAsJsonAsync(path, body, Json, ct);

    private static async Task<T?> ReadAsync<T>(HttpResponseMessage r, CancellationToken ct)
    {
        using (r)
        {
            if (r.StatusCode == HttpStatusCode.NoContent) return default;
            if (r.IsSuccessStatusCode) return typeof(T) == typeof(object) ? default : await r.Content.ReadFromJsonAsync<T>(Json, ct);
            var text = await r.Content.ReadAsStringAsync(ct);
            string detail;
            try
            {
                using var doc = JsonDocument.Parse(text);
                detail = doc.RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? text : text;
                if (doc.RootElement.TryGetProperty("errors", out var errors)) detail += " " + errors.GetRawText();
            }
            catch (JsonException)
            {
                detail = text.Length > 500 ? text[..500] : text;
            }
            throw new RunnerApiException(r.StatusCode, $"{(int)r.StatusCode} {r.ReasonPhrase}: {detail}");
        }
    }
}
