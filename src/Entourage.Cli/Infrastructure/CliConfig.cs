using System.Text.Json;
using System.Text.Json.Serialization;

namespace Entourage.Cli.Infrastructure;

/// <summary>
/// ~/.config/entourage/config.json (or $XDG_CONFIG_HOME/entourage, or the file named by ENTOURAGE_CONFIG):
/// defaults for the server URL, the token and the team, so they need not be typed on every command.
/// Environment variables and options win over it.
/// </summary>
public sealed record CliConfig(
    [property: JsonPropertyName("url")] string? Url = null,
    [property: JsonPropertyName("token")] string? Token = null,
    [property: JsonPropertyName("org")] string? Org = null,
    [property: JsonPropertyName("team")] string? Team = null)
{
    public static string DefaultPath(Func<string, string?> env)
    {
        if (env("ENTOURAGE_CONFIG") is { Length: > 0 } explicitPath) return explicitPath;
        var configHome = env("XDG_CONFIG_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return Path.Combine(configHome, "entourage", "config.json");
    }

    public static CliConfig Load(string path)
    {
        if (!File.Exists(path)) return new CliConfig();
        try
        {
            return JsonSerializer.Deserialize<CliConfig>(File.ReadAllText(path)) ?? new CliConfig();
        }
        catch (JsonException ex)
        {
            throw CliException.Usage($"The config file {path} is not valid JSON ({ex.Message}). Fix or delete it.");
        }
    }
}
