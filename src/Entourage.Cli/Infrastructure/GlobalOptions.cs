using System.CommandLine;

namespace Entourage.Cli.Infrastructure;

/// <summary>Options every command accepts (declared once on the root, recursive).</summary>
public static class GlobalOptions
{
    public static readonly Option<string?> Url = new("--url")
    {
        Description = "Server URL (default: $ENTOURAGE_URL, the config file, then http://localhost:8000).",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Write machine-readable JSON to stdout instead of tables.",
        Recursive = true,
    };

    /// <summary>Team id or slug; commands that act on a team take it (default: $ENTOURAGE_TEAM or the config file).</summary>
    public static Option<string?> Team() => new("--team", "-t")
    {
        Description = "Team id or slug (default: $ENTOURAGE_TEAM or \"team\" in the config file).",
    };

    public static Option<string?> Org() => new("--org")
    {
        Description = "Org id or slug (default: $ENTOURAGE_ORG, the config file, then \"default\").",
    };
}
