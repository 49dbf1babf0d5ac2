using System.Text.Json;
using System.Text.Json.Nodes;

namespace Entourage.Server.Agents.Adapters;

/// <summary>
/// The allow-listed environment of an agent process (DESIGN §7): never the server's own environment. The
/// ENTOURAGE_* identity, a few basics (PATH, HOME, locale, temp), what the adapter names, and what the agent's
/// <c>config.env</c> sets explicitly.
/// </summary>
public static class AgentEnvironment
{
    private static readonly string[] Basics = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "TERM", "SHELL", "DOTNET_ROOT", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS"];

    /// <summary>
    /// The environment of one agent process: this machine's basics and the adapter's pass-through variables, the
    /// agent's <c>config.env</c>, then the turn's identity (<see cref="Identity"/>, computed where the turn was
    /// claimed, which for an HTTP runner is the server) on top, so config cannot spoof it.
    /// </summary>
    public static Dictionary<string, string> Build(IAgentAdapter adapter, JsonObject config, IReadOnlyDictionary<string, string> identity)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in Basics.Concat(adapter.PassThroughEnvironment))
        {
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } v) env[name] = v;
        }
        if (config["env"] is JsonObject extra)
        {
            foreach (var (k, v) in extra)
            {
                if (v?.GetValueKind() is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                    env[k] = v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString();
            }
        }
        foreach (var (k, v) in identity) env[k] = v;
        return env;
    }

    /// <summary>The ENTOURAGE_* variables that tell an agent process who it is and where the server is.</summary>
    public static Dictionary<string, string> Identity(Guid agentId, Guid teamId, string serverUrl, string token, long? taskId, Guid turnId, int attempt) => new(StringComparer.Ordinal)
    {
        ["ENTOURAGE_URL"] = serverUrl,
        ["ENTOURAGE_AGENT_ID"] = agentId.ToString(),
        ["ENTOURAGE_TEAM_ID"] = teamId.ToString(),
        ["ENTOURAGE_TASK_ID"] = taskId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "",
        ["ENTOURAGE_AGENT_TOKEN"] = token,
        ["ENTOURAGE_TURN_ID"] = turnId.ToString(),
        ["ENTOURAGE_TURN_ATTEMPT"] = attempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Extra arguments from <c>config.args</c> (an array of strings), appended as given.</summary>
    public static List<string> ExtraArgs(JsonObject config) =>
        config["args"] is JsonArray a
            ? a.Where(x => x?.GetValueKind() == JsonValueKind.String).Select(x => x!.GetValue<string>()).ToList()
            : [];

    public static string? String(JsonObject config, string key) =>
        config[key]?.GetValueKind() == JsonValueKind.String ? config[key]!.GetValue<string>() : null;
}
