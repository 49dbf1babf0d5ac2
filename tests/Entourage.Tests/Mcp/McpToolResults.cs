using System.Text.Json.Nodes;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Entourage.Tests.Mcp;

public static class McpToolResults
{
    /// <summary>Calls a tool that must succeed and returns its JSON result.</summary>
    public static async Task<JsonNode> CallOkAsync(this McpClient client, string tool, object? args = null)
    {
        var result = await client.CallToolAsync(tool, ToArgs(args));
        var text = Text(result);
        result.IsError.ShouldNotBe(true, $"{tool} failed: {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>Calls a tool that must fail and returns the error text the model would read.</summary>
    public static async Task<string> CallErrorAsync(this McpClient client, string tool, object? args = null)
    {
        var result = await client.CallToolAsync(tool, ToArgs(args));
        var text = Text(result);
        result.IsError.ShouldBe(true, $"{tool} should have failed but returned: {text}");
        return text;
    }

    public static string Text(CallToolResult result) => string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    private static Dictionary<string, object?>? ToArgs(object? args) => args switch
    {
        null => null,
        Dictionary<string, object?> d => d,
        _ => JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(args))!.AsObject().ToDictionary(kv => kv.Key, kv => (object?)kv.Value),
    };
}
