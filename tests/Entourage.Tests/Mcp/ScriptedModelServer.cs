using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Entourage.Tests.Mcp;

/// <summary>
/// What the scripted model does next, decided from the conversation so far (the CLIs resend it whole each time).
/// Return <see cref="ModelStep.Text"/> to end the turn, or a tool call the CLI will execute and answer.
/// </summary>
public delegate ModelStep ModelScript(ModelRequest request);

public abstract record ModelStep
{
    public sealed record Text(string Value) : ModelStep;

    /// <summary>Calls a tool. <paramref name="Name"/> is matched against the offered tools by suffix
    /// ("list_team_agents" finds "mcp__entourage__list_team_agents"), so scripts need not know each CLI's prefix.</summary>
    public sealed record ToolCall(string Name, JsonObject Input) : ModelStep;
}

/// <summary>One request as the model sees it, normalised across the Anthropic and OpenAI wire formats.</summary>
public sealed record ModelRequest(string FirstUserText, IReadOnlyList<string> ToolNames, IReadOnlyList<ToolResult> ToolResults, JsonNode Raw)
{
    /// <summary>Number of tool results already returned: the script's step counter.</summary>
    public int Step => ToolResults.Count;

    public ToolResult? Last => ToolResults.Count > 0 ? ToolResults[^1] : null;

    public string? FindTool(string name) =>
        ToolNames.FirstOrDefault(t => t == name) ?? ToolNames.FirstOrDefault(t =>
            t.EndsWith("__" + name, StringComparison.Ordinal) || t.EndsWith("\u0001" + name, StringComparison.Ordinal) || t.EndsWith("." + name, StringComparison.Ordinal));
}

public sealed record ToolResult(string Name, string Text, bool IsError);

/// <summary>
/// A local stand-in for a model provider: Kestrel on a random loopback port, speaking the Anthropic Messages API
/// (/v1/messages, SSE streaming) and the OpenAI Responses API (/v1/responses, SSE), driven by a script. Every
/// request body is kept (and written to <see cref="LogDirectory"/>) so a failing test shows what the CLI sent.
/// </summary>
public sealed class ScriptedModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(string Path, JsonNode? Body)> _requests = new();
    private int _counter;

    /// <summary>Where the server listens (known once started).</summary>
    public Uri BaseUrl => new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    public string LogDirectory { get; }
    public IReadOnlyCollection<(string Path, JsonNode? Body)> Requests => _requests;

    /// <summary>Price the fake usage so cost recording can be asserted: tokens per response.</summary>
    public const int InputTokensPerCall = 1000, OutputTokensPerCall = 100;

    private ScriptedModelServer(WebApplication app, string logDir)
    {
        _app = app;
        LogDirectory = logDir;
    }

    public static async Task<ScriptedModelServer> StartAsync(ModelScript script)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var logDir = Directory.CreateTempSubdirectory("entourage-model-").FullName;
        var server = new ScriptedModelServer(app, logDir);
        app.Run(http => server.HandleAsync(http, script));
        await app.StartAsync();
        return server;
    }

    private async Task HandleAsync(HttpContext http, ModelScript script)
    {
        var path = http.Request.Path.Value ?? "";
        JsonNode? body = null;
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            using var reader = new StreamReader(http.Request.Body);
            var text = await reader.ReadToEndAsync();
            try { body = JsonNode.Parse(text); } catch (System.Text.Json.JsonException) { body = JsonValue.Create(text); }
        }
        var n = Interlocked.Increment(ref _counter);
        _requests.Enqueue((path, body));
        await File.WriteAllTextAsync(Path.Combine(LogDirectory, $"{n:D4}-{http.Request.Method}-{path.Trim('/').Replace('/', '_')}.json"),
            $"{http.Request.Method} {path}{http.Request.QueryString}\n{string.Join("\n", http.Request.Headers.Select(h => $"{h.Key}: {(h.Key.Contains("auth", StringComparison.OrdinalIgnoreCase) || h.Key.Contains("key", StringComparison.OrdinalIgnoreCase) ? "***" : h.Value)}"))}\n\n{body?.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true })}");

        if (path.EndsWith("/v1/messages", StringComparison.Ordinal) && body is JsonObject anthropic)
            await AnthropicWire.RespondAsync(http, anthropic, script);
        else if (path.EndsWith("/v1/messages/count_tokens", StringComparison.Ordinal))
            await http.Response.WriteAsJsonAsync(new { input_tokens = InputTokensPerCall });
        else if (path.EndsWith("/responses", StringComparison.Ordinal) && body is JsonObject openai)
            await OpenAiWire.RespondAsync(http, openai, script);
        else if (path.EndsWith("/models", StringComparison.Ordinal))
            await http.Response.WriteAsJsonAsync(new { data = Array.Empty<object>(), models = Array.Empty<object>() });
        else
            http.Response.StatusCode = 404;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
