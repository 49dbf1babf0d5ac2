using System.Text.Json;
using System.Text.Json.Nodes;

namespace Entourage.Server.Dashboard.Data;

/// <summary>
/// The data of a task event as "name: value" lines a person can read: ids and empty values are left out (the
/// timeline already names the actor and the states), nested values are shown as compact JSON.
/// </summary>
public static class TimelineData
{
    public static IReadOnlyList<(string Key, string Value)> Fields(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return [];
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return [("data", json)];
        }
        if (node is not JsonObject obj) return node is null ? [] : [("data", node.ToJsonString())];
        var result = new List<(string, string)>();
        foreach (var (key, value) in obj)
        {
            if (value is null || key.EndsWith("_id", StringComparison.Ordinal) || key == "batch_index") continue;
            var text = value.GetValueKind() switch
            {
                JsonValueKind.String => value.GetValue<string>(),
                JsonValueKind.Array when value.AsArray().Count == 0 => null,
                _ => value.ToJsonString(),
            };
            if (!string.IsNullOrEmpty(text)) result.Add((key, text));
        }
        return result;
    }
}
