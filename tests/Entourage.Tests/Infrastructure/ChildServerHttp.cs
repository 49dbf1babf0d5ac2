using System.Text.Json.Nodes;

namespace Entourage.Tests.Infrastructure;

/// <summary>
/// HTTP and waiting helpers for tests that run the server as a separate process (crash tests): its state cannot
/// be subscribed to from the test process, so waits re-check it until a bound that only catches a broken run.
/// </summary>
public static class ChildServerHttp
{
    /// <summary>Another process's state cannot be subscribed to from here: re-check it every 200 ms until the timeout.</summary>
    public static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(300);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Timed out waiting for " + what);
            await Task.Delay(200);
        }
    }

    public static async Task<JsonNode> GetAsync(HttpClient http, string path)
    {
        var r = await http.GetAsync(path);
        var text = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode) throw new HttpRequestException($"{(int)r.StatusCode} GET {path}: {text}");
        return JsonNode.Parse(text)!;
    }

    public static Task<JsonNode> PostAsync(HttpClient http, string path, string json) => SendAsync(http, HttpMethod.Post, path, json);

    public static async Task<JsonNode> SendAsync(HttpClient http, HttpMethod method, string path, string json)
    {
        var r = await http.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") });
        var text = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode) throw new HttpRequestException($"{(int)r.StatusCode} {method} {path}: {text}");
        return JsonNode.Parse(text)!;
    }
}
