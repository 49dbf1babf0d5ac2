using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Entourage.Server.Dispatch;

namespace Entourage.Server.Agents;

/// <summary>Tokens and cost of one turn, from the CLI's own final record.</summary>
public sealed record TurnUsage(long InputTokens, long OutputTokens, long CacheReadTokens, long CacheWriteTokens, double CostUsd, string? Model)
{
    public bool IsEmpty => InputTokens == 0 && OutputTokens == 0 && CacheReadTokens == 0 && CacheWriteTokens == 0 && CostUsd == 0;
}

/// <summary>
/// Reads an agent's output line by line and keeps what matters: the session id (to resume), and usage. Claude
/// stream-json's <c>result</c> line carries <c>total_cost_usd</c> and <c>usage</c>; Codex's <c>turn.completed</c>
/// and Gemini's <c>result</c> carry tokens only, priced from <see cref="DispatchOptions.Prices"/>; Aider prints
/// "Cost: $X message". Codex reports usage per turn within one exec, so those add up.
/// </summary>
public sealed partial class TurnOutputParser(IReadOnlyDictionary<string, ModelPrice> prices, string? model)
{
    private long _in, _out, _cacheRead, _cacheWrite;
    private double _cost;
    private bool _costReported;

    public string? SessionId { get; private set; }
    /// <summary>The agent's own error text; stored on the turn, so NUL-free like its log (PostgreSQL text).</summary>
    public string? ResultError { get => _resultError; private set => _resultError = value is null ? null : TurnLogWriter.WithoutNul(value); }
    private string? _resultError;
    public string? Model { get; private set; } = model;

    public TurnUsage Usage => new(_in, _out, _cacheRead, _cacheWrite, _costReported ? _cost : Price(), Model);

    public void Feed(string line)
    {
        var t = line.AsSpan().Trim();
        if (t.Length > 1 && t[0] == '{')
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                FeedJson(doc.RootElement);
            }
            catch (JsonException)
            {
            }
            return;
        }
        var m = AiderCost().Match(line);
        if (m.Success && double.TryParse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var c))
        {
            _cost += c;
            _costReported = true;
        }
    }

    private void FeedJson(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) return;
        var type = Str(e, "type");
        if (Str(e, "session_id") is { } sid) SessionId = sid;
        if (Str(e, "thread_id") is { } tid) SessionId = tid;
        if (Str(e, "model") is { } mdl) Model = mdl;
        switch (type)
        {
            case "result":
                if (e.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object)
                {
                    _in = Long(u, "input_tokens");
                    _out = Long(u, "output_tokens");
                    _cacheRead = Long(u, "cache_read_input_tokens");
                    _cacheWrite = Long(u, "cache_creation_input_tokens");
                }
                else if (e.TryGetProperty("stats", out var s) && s.ValueKind == JsonValueKind.Object)
                {
                    _in = Long(s, "input_tokens");
                    _out = Long(s, "output_tokens");
                    _cacheRead = Long(s, "cached");
                }
                if (e.TryGetProperty("total_cost_usd", out var cost) && cost.ValueKind == JsonValueKind.Number)
                {
                    _cost = cost.GetDouble();
                    _costReported = true;
                }
                if (e.TryGetProperty("is_error", out var err) && err.ValueKind == JsonValueKind.True)
                    ResultError = Str(e, "result") ?? Str(e, "subtype") ?? "the agent reported an error";
                break;
            case "turn.completed" when e.TryGetProperty("usage", out var cu) && cu.ValueKind == JsonValueKind.Object:
                var cached = Long(cu, "cached_input_tokens");
                _in += Math.Max(0, Long(cu, "input_tokens") - cached);
                _cacheRead += cached;
                _out += Long(cu, "output_tokens");
                break;
            case "turn.failed":
                ResultError = e.TryGetProperty("error", out var fe) && fe.ValueKind == JsonValueKind.Object ? Str(fe, "message") : "turn failed";
                break;
        }
    }

    private double Price()
    {
        if (Model is null || !prices.TryGetValue(Model, out var p))
        {
            // Dated model names ("gpt-5-2025-08-07") price as their family.
            p = prices.Where(kv => Model?.StartsWith(kv.Key, StringComparison.OrdinalIgnoreCase) == true)
                .OrderByDescending(kv => kv.Key.Length).Select(kv => kv.Value).FirstOrDefault();
            if (p is null) return 0;
        }
        return (_in * p.InputPerMTok + _cacheRead * p.CachedInputPerMTok + _out * p.OutputPerMTok) / 1_000_000d;
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;

    [GeneratedRegex(@"Cost: \$([0-9.]+) message", RegexOptions.CultureInvariant)]
    private static partial Regex AiderCost();
}
