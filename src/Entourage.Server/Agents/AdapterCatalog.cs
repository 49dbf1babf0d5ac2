using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Entourage.Server.Agents;

/// <summary>Whether an agent's CLI can be launched here; an agent whose CLI is missing shows "offline".</summary>
public sealed record AdapterAvailability(bool Available, string? Executable, string? Reason);

/// <summary>
/// Known adapters and where their executables are. <c>config.command</c> overrides the executable (required for
/// the <c>command</c> adapter). Lookups are cached briefly: this runs for every agent listing.
/// </summary>
public sealed class AdapterCatalog(TimeProvider clock)
{
    public static readonly IReadOnlyDictionary<string, string?> DefaultExecutables = new Dictionary<string, string?>
    {
        ["claude-code"] = "claude",
        ["codex"] = "codex",
        ["gemini"] = "gemini",
        ["aider"] = "aider",
        ["command"] = null,
    };

    public static string AllowedNames => string.Join(", ", DefaultExecutables.Keys);

    public static bool IsKnown(string adapter) => DefaultExecutables.ContainsKey(adapter);

    private readonly ConcurrentDictionary<(string Adapter, string Executable), (AdapterAvailability Result, DateTimeOffset At)> _cache = new();

    /// <summary>The executable an agent runs: config.command, else its adapter's default; null when there is none.</summary>
    public static string? ExecutableOf(string adapter, JsonObject config)
    {
        var command = config["command"]?.GetValueKind() == System.Text.Json.JsonValueKind.String ? config["command"]!.GetValue<string>() : null;
        return command ?? DefaultExecutables.GetValueOrDefault(adapter);
    }

    /// <summary>
    /// <see cref="ExecutableOf"/> as SQL over an agent row's columns (PostgreSQL), for a statement that picks an agent
    /// this node can launch among <see cref="Launchable"/>; null when neither gives one.
    /// </summary>
    public static string ExecutableSql(string adapter, string configJson) =>
        $"COALESCE(CASE WHEN jsonb_typeof(({configJson})::jsonb -> 'command') = 'string' THEN ({configJson})::jsonb ->> 'command' END, " +
        $"CASE {adapter} {string.Concat(DefaultExecutables.Where(d => d.Value is not null).Select(d => $"WHEN '{d.Key}' THEN '{d.Value}' "))}END)";

    /// <summary>
    /// The adapters and executables this node has found installed and still finds so (each looked up again when its
    /// answer is older than the cache's): what a statement that finds its agent itself may launch here, matched with
    /// <see cref="ExecutableSql"/>. An executable never checked here is not among them (its agent's turn is the
    /// dispatcher's, whose check adds it); listing or creating an agent checks it too.
    /// </summary>
    public List<(string Adapter, string Executable)> Launchable()
    {
        var launchable = new List<(string, string)>();
        foreach (var ((adapter, exe), (result, _)) in _cache)
            if (result.Available && CheckExecutable(adapter, exe).Available) launchable.Add((adapter, exe));
        return launchable;
    }

    public AdapterAvailability Check(string adapter, JsonObject config)
    {
        if (!DefaultExecutables.ContainsKey(adapter))
            return new(false, null, $"Unknown adapter '{adapter}'. Use one of: {AllowedNames}.");
        var exe = ExecutableOf(adapter, config);
        if (exe is null)
            return new(false, null, "The command adapter needs config.command: the executable to run.");
        return CheckExecutable(adapter, exe);
    }

    private AdapterAvailability CheckExecutable(string adapter, string exe)
    {
        var key = (adapter, exe);
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(key, out var hit) && now - hit.At < TimeSpan.FromSeconds(10)) return hit.Result;
        var path = Resolve(exe);
        var result = path is null
            ? new AdapterAvailability(false, null, $"'{exe}' was not found on PATH. Install the {adapter} CLI or set config.command to its path.")
            : new AdapterAvailability(true, path, null);
        _cache[key] = (result, now);
        return result;
    }

    /// <summary>Full path of an executable: as given when it contains a slash, else searched on PATH.</summary>
    public static string? Resolve(string exe)
    {
        if (exe.Contains('/')) return File.Exists(exe) ? Path.GetFullPath(exe) : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, exe);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
