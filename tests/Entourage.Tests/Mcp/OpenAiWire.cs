using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Entourage.Tests.Mcp;

/// <summary>
/// The OpenAI Responses API as the Codex CLI uses it: POST {base_url}/responses with stream=true, answered with
/// SSE events (response.created, response.output_item.done, response.completed with usage). Tool results come
/// back as function_call_output input items.
/// </summary>
public static class OpenAiWire
{
    /// <summary>Of <see cref="ScriptedModelServer.InputTokensPerCall"/>, how many each response reports as read from
    /// the prompt cache, so cached-input pricing is exercised too.</summary>
    public const int CachedInputTokensPerCall = 400;

    public static async Task RespondAsync(HttpContext http, JsonObject body, ModelScript script)
    {
        var request = Parse(body);
        JsonObject item;
        try
        {
            var step = request.ToolNames.Count == 0 ? new ModelStep.Text("ok") : script(request);
            item = step switch
            {
                ModelStep.ToolCall call => FunctionCall(request, call),
                ModelStep.Text text => new JsonObject
                {
                    ["type"] = "message", ["role"] = "assistant", ["id"] = "msg_" + Guid.NewGuid().ToString("N")[..16], ["status"] = "completed",
                    ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = text.Value, ["annotations"] = new JsonArray() }),
                },
                _ => throw new InvalidOperationException(),
            };
        }
        catch (Exception e)
        {
            http.Response.StatusCode = 400;
            await http.Response.WriteAsJsonAsync(new JsonObject
            {
                ["error"] = new JsonObject { ["message"] = "scripted model: " + e.Message, ["type"] = "invalid_request_error" },
            });
            return;
        }

        var id = "resp_" + Guid.NewGuid().ToString("N")[..16];
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        await Send(http, new JsonObject { ["type"] = "response.created", ["response"] = new JsonObject { ["id"] = id } });
        await Send(http, new JsonObject { ["type"] = "response.output_item.added", ["output_index"] = 0, ["item"] = item.DeepClone() });
        await Send(http, new JsonObject { ["type"] = "response.output_item.done", ["output_index"] = 0, ["item"] = item });
        await Send(http, new JsonObject
        {
            ["type"] = "response.completed",
            ["response"] = new JsonObject
            {
                ["id"] = id,
                ["status"] = "completed",
                ["usage"] = new JsonObject
                {
                    ["input_tokens"] = ScriptedModelServer.InputTokensPerCall,
                    ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = CachedInputTokensPerCall },
                    ["output_tokens"] = ScriptedModelServer.OutputTokensPerCall,
                    ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
                    ["total_tokens"] = ScriptedModelServer.InputTokensPerCall + ScriptedModelServer.OutputTokensPerCall,
                },
            },
        });
    }

    private static JsonObject FunctionCall(ModelRequest request, ModelStep.ToolCall call)
    {
        var full = request.FindTool(call.Name) ?? throw new InvalidOperationException(
            $"Codex does not offer a tool named like '{call.Name}'. Offered: {string.Join(", ", request.ToolNames)}");
        var item = new JsonObject
        {
            ["type"] = "function_call",
            ["id"] = "fc_" + Guid.NewGuid().ToString("N")[..16],
            ["call_id"] = "call_" + Guid.NewGuid().ToString("N")[..16],
            ["status"] = "completed",
            ["arguments"] = call.Input.ToJsonString(),
        };
        // Namespaced tools (MCP servers) are offered as {"type":"namespace","name":ns,"tools":[…]} and called by
        // their own name with the namespace beside it.
        var dot = full.IndexOf('\u0001');
        if (dot > 0)
        {
            item["namespace"] = full[..dot];
            item["name"] = full[(dot + 1)..];
        }
        else item["name"] = full;
        return item;
    }

    public static ModelRequest Parse(JsonObject body)
    {
        var tools = new List<string>();
        foreach (var t in body["tools"]?.AsArray() ?? [])
        {
            var type = t?["type"]?.GetValue<string>();
            var name = t?["name"]?.GetValue<string>();
            if (type == "namespace" && t!["tools"] is JsonArray inner)
                tools.AddRange(inner.Select(i => i?["name"]?.GetValue<string>()).OfType<string>().Select(n => name + "\u0001" + n));
            else if (name is not null) tools.Add(name);
        }
        var names = new Dictionary<string, string>();
        var results = new List<ToolResult>();
        var firstUser = "";
        foreach (var i in body["input"]?.AsArray() ?? [])
        {
            switch (i?["type"]?.GetValue<string>())
            {
                case "message" when i["role"]?.GetValue<string>() == "user" && firstUser.Length == 0:
                    firstUser = string.Join("\n", (i["content"] as JsonArray ?? []).Select(c => c?["text"]?.GetValue<string>()).OfType<string>());
                    break;
                case "function_call":
                    names[i["call_id"]!.GetValue<string>()] = i["name"]!.GetValue<string>();
                    break;
                case "function_call_output":
                    var output = i["output"];
                    var text = output is JsonValue v ? v.GetValue<string>() : output?.ToJsonString() ?? "";
                    results.Add(new ToolResult(names.GetValueOrDefault(i["call_id"]!.GetValue<string>(), "?"), text, false));
                    break;
            }
        }
        // The whole request in one text, so scripts can route on what the agent was told (its name, its task).
        return new ModelRequest(firstUser + "\n" + body.ToJsonString(), tools, results, body);
    }

    private static async Task Send(HttpContext http, JsonObject data)
    {
        await http.Response.WriteAsync($"event: {data["type"]!.GetValue<string>()}\ndata: {data.ToJsonString()}\n\n", Encoding.UTF8);
        await http.Response.Body.FlushAsync();
    }
}
