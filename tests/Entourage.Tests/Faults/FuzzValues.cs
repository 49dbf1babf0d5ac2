using System.Text;
using System.Text.Json.Nodes;

namespace Entourage.Tests.Faults;

/// <summary>
/// Seeded random JSON for fuzzing: hostile scalars (huge and fractional numbers, unicode, lone surrogates, empty and
/// very long strings), wrong shapes, deep nesting, known field names with wrong types, unknown fields, and ids that
/// exist (so a malformed request reaches deep into a handler instead of stopping at "not found").
/// </summary>
public sealed class FuzzValues(Random rng, Func<IReadOnlyList<string>> knownIds)
{
    public static readonly string[] Fields =
    [
        "title", "description", "priority", "task_type", "assignee_id", "depends_on", "depends_on_indices", "parent_id",
        "tasks", "status", "reason", "name", "slug", "role", "model", "adapter", "config", "args", "recipient_id", "body",
        "sender_id", "sender_name", "task_id", "message_ids", "task_ids", "timeout_seconds", "decision", "comments", "file",
        "line", "summary", "daily_cost_limit_usd", "max_concurrent_agents", "require_review", "require_plan_approval",
        "merge_strategy", "base_branch", "template", "answer", "approved", "answered_by", "question", "kind", "options",
        "wait_seconds", "exclude_task_ids", "comment", "feedback", "reviewer", "manager_model", "runner_labels",
    ];

    private static readonly string[] Strings =
    [
        "", " ", "x", "todo", "done", "in_progress", "cancelled", "failed", "proposed", "high", "critical", "bug", "manager",
        "engineer", "reviewer", "approve", "request_changes", "eng-backend", "nobody", "null", "true", "-1", "0", "1e400",
        "99999999999999999999999", "😀💥", "ä\u0301ö", "\u0000", "\u202e reversed", "<script>alert(1)</script>", "'; DROP TABLE tasks; --",
        "../../etc/passwd", "{\"title\": 1}", "00000000-0000-0000-0000-000000000000", "\t\n", "NaN", "Infinity",
    ];

    public T Pick<T>(IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    public JsonNode? Scalar() => rng.Next(16) switch
    {
        0 => null,
        1 => JsonValue.Create(rng.Next(2) == 0),
        2 => JsonValue.Create(rng.Next(-3, 1000)),
        3 => JsonValue.Create(Pick(new long[] { long.MaxValue, long.MinValue, int.MaxValue + 1L, int.MinValue, -1, 0, 9_007_199_254_740_993 })),
        4 => JsonValue.Create(Pick(new[] { 1e308, -1e308, 0.5, -0.0001, 1e-300, 3.999999 })),
        5 => JsonNode.Parse(Pick(new[] { "1e400", "-1e400", "123456789012345678901234567890", "1.0E+2", "0.0000000000000000000000001" })),
        6 => JsonValue.Create(new string(Pick("aé😀\u4e2d".ToCharArray()), rng.Next(1, 3) * Pick(new[] { 1, 600, 30_000 }))),
        7 or 8 => JsonValue.Create(Pick(Strings)),
        9 => JsonValue.Create(Guid.NewGuid().ToString()),
        10 or 11 or 12 => knownIds() is { Count: > 0 } ids ? Id(Pick(ids)) : null,
        13 => JsonValue.Create(RandomUnicode()),
        14 => JsonValue.Create("\uFFFF\uFFFE noncharacters"),
        _ => JsonValue.Create(rng.NextDouble() * 1000),
    };

    /// <summary>An id as the API may meet it: raw, as a number when numeric, or as a string.</summary>
    private JsonNode Id(string id) => long.TryParse(id, out var n) && rng.Next(2) == 0 ? JsonValue.Create(n) : JsonValue.Create(id);

    private string RandomUnicode()
    {
        var sb = new StringBuilder();
        for (var i = rng.Next(1, 20); i > 0; i--)
        {
            var cp = rng.Next(4) == 0 ? rng.Next(0x10000, 0x10FFFF) : rng.Next(0x20, 0xFFFF);
            if (cp is >= 0xD800 and <= 0xDFFF) cp = 0xFFFD;
            sb.Append(char.ConvertFromUtf32(cp));
        }
        return sb.ToString();
    }

    public JsonNode? Value(int depth = 0) => rng.Next(depth > 3 ? 1 : 10) switch
    {
        0 or 1 or 2 or 3 or 4 or 5 => Scalar(),
        6 or 7 => new JsonArray(Enumerable.Range(0, rng.Next(0, 5)).Select(_ => Value(depth + 1)).ToArray()),
        8 => Deep(rng.Next(2, 50)),
        _ => Object(depth + 1),
    };

    private JsonNode Deep(int n)
    {
        JsonNode node = JsonValue.Create(1);
        for (var i = 0; i < n; i++) node = rng.Next(2) == 0 ? new JsonArray(node) : new JsonObject { ["a"] = node };
        return node;
    }

    public JsonObject Object(int depth = 0)
    {
        var o = new JsonObject();
        for (var i = rng.Next(0, 6); i > 0; i--)
            o[rng.Next(6) == 0 ? "unknown_" + rng.Next(100) : Pick(Fields)] = Value(depth);
        return o;
    }

    /// <summary>A valid-looking body with one or two fields broken, removed or added.</summary>
    public JsonNode Mutate(JsonObject template)
    {
        var o = (JsonObject)template.DeepClone();
        for (var i = rng.Next(1, 3); i > 0; i--)
        {
            var keys = o.Select(p => p.Key).ToList();
            switch (rng.Next(4))
            {
                case 0 when keys.Count > 0: o.Remove(Pick(keys)); break;
                case 1 when keys.Count > 0: o[Pick(keys)] = Value(1); break;
                case 2: o[rng.Next(3) == 0 ? "unknown_field" : Pick(Fields)] = Value(1); break;
                default:
                    if (o["tasks"] is JsonArray items && items.Count > 0 && items[rng.Next(items.Count)] is JsonObject item)
                        item[Pick(Fields)] = Value(1);
                    break;
            }
        }
        return o;
    }

    /// <summary>Text that is not JSON, or is JSON cut short.</summary>
    public string Malformed(string valid) => rng.Next(8) switch
    {
        6 => new string('[', 300) + new string(']', 300),
        7 => "{\"title\": \"\\ud800 lone surrogate\", \"name\": \"\\udc00\", \"body\": \"\\ud800\"}",
        0 => valid.Length > 1 ? valid[..rng.Next(1, valid.Length)] : "{",
        1 => valid + "}",
        2 => "nul",
        3 => "\u00ff\u00fe garbage",
        4 => "[" + valid,
        _ => "{\"title\": \"unterminated",
    };
}
