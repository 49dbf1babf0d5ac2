using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Entourage.Tests.Mcp;

/// <summary>The OpenAI Responses API as Codex uses it (filled in once the Codex request bodies are known).</summary>
public static class OpenAiWire
{
    public static Task RespondAsync(HttpContext http, JsonObject body, ModelScript script)
    {
        http.Response.StatusCode = 501;
        return Task.CompletedTask;
    }
}
