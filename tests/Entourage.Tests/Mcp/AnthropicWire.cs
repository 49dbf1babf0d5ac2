using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Entourage.Tests.Mcp;

/// <summary>The Anthropic Messages API as Claude Code uses it: POST /v1/messages, streamed as SSE events.</summary>
public static class AnthropicWire
{
    public static async Task RespondAsync(HttpContext http, JsonObject body, ModelScript script)
    {
        var request = Parse(body);
        // Side requests (titles, summaries, quota checks) offer no tools: answer them briefly, never with the script.
        ModelStep step;
        try
        {
            step = request.ToolNames.Count == 0 ? new ModelStep.Text("ok") : script(request);
            if (step is ModelStep.ToolCall c && request.FindTool(c.Name) is null)
                step = LoadDeferred(request, c.Name);
        }
        catch (Exception e)
        {
            // A 400 is shown by the CLI and not retried: the failing test then says what the script got wrong.
            http.Response.StatusCode = 400;
            await http.Response.WriteAsJsonAsync(new JsonObject
            {
                ["type"] = "error",
                ["error"] = new JsonObject { ["type"] = "invalid_request_error", ["message"] = "scripted model: " + e.Message },
            });
            return;
        }
        var model = body["model"]?.GetValue<string>() ?? "claude-sonnet-4-20250514";
        var id = "msg_" + Guid.NewGuid().ToString("N")[..20];
        JsonObject block = step switch
        {
            ModelStep.ToolCall call => new JsonObject
            {
                ["type"] = "tool_use",
                ["id"] = "toolu_" + Guid.NewGuid().ToString("N")[..20],
                ["name"] = request.FindTool(call.Name) ?? throw new InvalidOperationException(
                    $"The CLI does not offer a tool named like '{call.Name}'. Offered: {string.Join(", ", request.ToolNames)}"),
                ["input"] = call.Input.DeepClone(),
            },
            ModelStep.Text text => new JsonObject { ["type"] = "text", ["text"] = text.Value },
            _ => throw new InvalidOperationException(),
        };
        var stopReason = step is ModelStep.ToolCall ? "tool_use" : "end_turn";
        var usage = new JsonObject { ["input_tokens"] = ScriptedModelServer.InputTokensPerCall, ["output_tokens"] = ScriptedModelServer.OutputTokensPerCall };

        if (body["stream"]?.GetValue<bool>() != true)
        {
            await http.Response.WriteAsJsonAsync(new JsonObject
            {
                ["id"] = id, ["type"] = "message", ["role"] = "assistant", ["model"] = model,
                ["content"] = new JsonArray(block), ["stop_reason"] = stopReason, ["stop_sequence"] = null, ["usage"] = usage,
            });
            return;
        }

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        await Send(http, "message_start", new JsonObject
        {
            ["type"] = "message_start",
            ["message"] = new JsonObject
            {
                ["id"] = id, ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = new JsonArray(),
                ["stop_reason"] = null, ["stop_sequence"] = null,
                ["usage"] = new JsonObject { ["input_tokens"] = ScriptedModelServer.InputTokensPerCall, ["output_tokens"] = 1 },
            },
        });
        if (block["type"]!.GetValue<string>() == "tool_use")
        {
            var input = block["input"]!.ToJsonString();
            block["input"] = new JsonObject();
            await Send(http, "content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = block });
            await Send(http, "content_block_delta", new JsonObject
            {
                ["type"] = "content_block_delta", ["index"] = 0,
                ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = input },
            });
        }
        else
        {
            var text = block["text"]!.GetValue<string>();
            await Send(http, "content_block_start", new JsonObject
            {
                ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" },
            });
            await Send(http, "content_block_delta", new JsonObject
            {
                ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = text },
            });
        }
        await Send(http, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 });
        await Send(http, "message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = stopReason, ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["output_tokens"] = ScriptedModelServer.OutputTokensPerCall },
        });
        await Send(http, "message_stop", new JsonObject { ["type"] = "message_stop" });
    }

    /// <summary>
    /// Claude Code defers MCP tool schemas behind its ToolSearch tool: a real model first loads the tool with
    /// "select:&lt;name&gt;", then calls it. Do the same, finding the full name among the announced deferred tools.
    /// </summary>
    private static ModelStep LoadDeferred(ModelRequest request, string name)
    {
        var search = request.FindTool("ToolSearch") ?? throw new InvalidOperationException(
            $"The CLI does not offer a tool named like '{name}', nor ToolSearch. Offered: {string.Join(", ", request.ToolNames)}");
        var all = request.Raw.ToJsonString();
        var match = System.Text.RegularExpressions.Regex.Match(all, @"mcp__[A-Za-z0-9_-]+?__" + System.Text.RegularExpressions.Regex.Escape(name) + @"\b");
        if (!match.Success) throw new InvalidOperationException($"No deferred tool named like '{name}' was announced to the model.");
        return new ModelStep.ToolCall(search, new JsonObject { ["query"] = "select:" + match.Value, ["max_results"] = 5 });
    }

    public static ModelRequest Parse(JsonObject body)
    {
        var tools = body["tools"]?.AsArray().Select(t => t?["name"]?.GetValue<string>()).OfType<string>().ToList() ?? [];
        var messages = body["messages"]?.AsArray() ?? [];
        string firstUser = "";
        var names = new Dictionary<string, string>();
        var results = new List<ToolResult>();
        foreach (var m in messages)
        {
            var role = m?["role"]?.GetValue<string>();
            var content = m?["content"];
            if (role == "user" && firstUser.Length == 0) firstUser = TextOf(content);
            if (content is not JsonArray blocks) continue;
            foreach (var b in blocks)
            {
                var type = b?["type"]?.GetValue<string>();
                if (type == "tool_use") names[b!["id"]!.GetValue<string>()] = b["name"]!.GetValue<string>();
                if (type == "tool_result")
                {
                    var useId = b!["tool_use_id"]!.GetValue<string>();
                    var tool = names.GetValueOrDefault(useId, "?");
                    // Loading a deferred tool is the CLI's plumbing, not a step of the script.
                    if (tool != "ToolSearch")
                        results.Add(new ToolResult(tool, TextOf(b["content"]), b["is_error"]?.GetValue<bool>() == true));
                }
            }
        }
        return new ModelRequest(firstUser, tools, results, body);
    }

    private static string TextOf(JsonNode? content) => content switch
    {
        JsonValue v => v.GetValue<string>(),
        JsonArray a => string.Join("\n", a.Select(b => b?["type"]?.GetValue<string>() == "text" ? b["text"]?.GetValue<string>() : null).OfType<string>()),
        _ => "",
    };

    private static async Task Send(HttpContext http, string evt, JsonObject data)
    {
        await http.Response.WriteAsync($"event: {evt}\ndata: {data.ToJsonString()}\n\n", Encoding.UTF8);
        await http.Response.Body.FlushAsync();
    }
}
