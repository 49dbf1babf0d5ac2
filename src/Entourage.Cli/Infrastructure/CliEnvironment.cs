using Spectre.Console;

namespace Entourage.Cli.Infrastructure;

/// <summary>
/// Everything a command touches outside itself: consoles, environment variables, the config file, the working
/// directory and PATH. Tests substitute each (Spectre's TestConsole, a temp directory, a fake PATH).
/// </summary>
public sealed class CliEnvironment
{
    public required IAnsiConsole Out { get; init; }
    public required IAnsiConsole Error { get; init; }
    public Func<string, string?> GetEnv { get; init; } = Environment.GetEnvironmentVariable;
    public string WorkingDirectory { get; init; } = Directory.GetCurrentDirectory();
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>False when stdin is redirected: then no command ever prompts.</summary>
    public bool InputIsTerminal { get; init; } = !Console.IsInputRedirected;

    /// <summary>Optional handler for every HTTP call (tests never need it; the server is real).</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Raw stdin/stdout for the MCP stdio bridge, which speaks JSON-RPC, not text.</summary>
    public Func<Stream> OpenStdin { get; init; } = Console.OpenStandardInput;
    public Func<Stream> OpenStdout { get; init; } = Console.OpenStandardOutput;

    public string ConfigPath => CliConfig.DefaultPath(GetEnv);

    /// <summary>Plain text writer behind <see cref="Out"/>, for output that must not be wrapped (JSON, logs).</summary>
    public TextWriter OutWriter => Out.Profile.Out.Writer;

    public static CliEnvironment FromProcess()
    {
        var output = AnsiConsole.Console;
        var error = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        // Piped into a file or another program there is no terminal width; wrapping at the default 80 columns
        // would split ids and tokens across lines.
        if (Console.IsOutputRedirected) output.Profile.Width = RedirectedWidth;
        if (Console.IsErrorRedirected) error.Profile.Width = RedirectedWidth;
        return new CliEnvironment { Out = output, Error = error };
    }

    private const int RedirectedWidth = 400;

    /// <summary>The full path of an executable on PATH, or null.</summary>
    public string? FindOnPath(string name)
    {
        var path = GetEnv("PATH");
        if (string.IsNullOrEmpty(path)) return null;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
            if (OperatingSystem.IsWindows() && File.Exists(candidate + ".exe")) return candidate + ".exe";
        }
        return null;
    }
}
