using System.Text.RegularExpressions;

namespace Entourage.Server.Agents.Adapters;

/// <summary>
/// The MCP servers a Codex user configured in $CODEX_HOME/config.toml. Codex has no --strict-mcp-config:
/// <c>-c</c> overrides are merged into that file, never replace it, so an agent would also get every tool of the
/// user's own servers (and a required one that fails would stop every turn). The adapter turns each of them off
/// with <c>-c mcp_servers.NAME.enabled=false</c>. Only names that surely exist may be named: Codex refuses to
/// start when an override creates a server without a transport ("invalid transport"), which is why a project's
/// .codex/config.toml (loaded only for trusted projects) is left alone. Reads table headers and keys outside
/// multi-line strings, the ways config.toml names a server: <c>[mcp_servers.NAME]</c>,
/// <c>[mcp_servers.NAME.env]</c>, <c>mcp_servers.NAME.url = …</c>, or <c>NAME = {…}</c> under <c>[mcp_servers]</c>.
/// </summary>
public static partial class CodexUserMcpServers
{
    /// <summary>The user config file Codex reads for an agent with this environment, if it can be known.</summary>
    public static string? UserConfigFile(IReadOnlyDictionary<string, string> env)
    {
        var codexHome = env.TryGetValue("CODEX_HOME", out var h) && h.Length > 0 ? h
            : env.TryGetValue("HOME", out var home) && home.Length > 0 ? Path.Combine(home, ".codex") : null;
        return codexHome is null ? null : Path.Combine(codexHome, "config.toml");
    }

    /// <summary>Names of the servers the file configures; a missing or unreadable file has none.</summary>
    public static async Task<IReadOnlyList<string>> FindAsync(string? file, CancellationToken ct)
    {
        string text;
        try
        {
            if (file is null || !File.Exists(file)) return [];
            text = await File.ReadAllTextAsync(file, ct);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
        return [.. new SortedSet<string>(Parse(text), StringComparer.Ordinal)];
    }

    public static IEnumerable<string> Parse(string toml)
    {
        var table = "";
        string? openString = null;
        foreach (var raw in toml.Split('\n'))
        {
            var line = raw.Trim();
            // Lines inside a multi-line string ("""…""" or '''…''') are text, not TOML.
            var wasOpen = openString is not null;
            foreach (var quote in new[] { "\"\"\"", "\'\'\'" })
            {
                if (openString is not null && openString != quote) continue;
                if (CountOf(line, quote) % 2 == 1) openString = openString is null ? quote : null;
            }
            if (wasOpen || line.StartsWith('#') || line.Length == 0) continue;
            if (Header().Match(line) is { Success: true } header)
            {
                table = header.Groups[1].Value.Trim();
                if (ServerPath().Match(table) is { Success: true } m) yield return Name(m);
                continue;
            }
            if (Key().Match(line) is not { Success: true } key) continue;
            var path = table.Length == 0 ? key.Groups[1].Value.Trim() : table + "." + key.Groups[1].Value.Trim();
            if (ServerPath().Match(path) is { Success: true } p) yield return Name(p);
        }
    }

    private static int CountOf(string text, string part)
    {
        var n = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    // Only names Codex accepts, so each one is safe in a -c key path without quoting.
    private static string Name(Match m) => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value;

    [GeneratedRegex(@"^\[\[?([^\]]+)\]\]?")]
    private static partial Regex Header();

    [GeneratedRegex(@"^((?:""[^""]*""|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:""[^""]*""|'[^']*'|[A-Za-z0-9_\-]+))*)\s*=")]
    private static partial Regex Key();

    [GeneratedRegex(@"^mcp_servers\s*\.\s*(?:""([A-Za-z0-9_\-]+)""|'([A-Za-z0-9_\-]+)'|([A-Za-z0-9_\-]+))(?:\s*\.|$)")]
    private static partial Regex ServerPath();
}
