namespace Entourage.Cli.Infrastructure;

/// <summary>A failure the CLI detected itself, with the exit code it maps to and advice for the user.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public static CliException Usage(string message) => new(ExitCodes.Usage, message);

    public static CliException NotFound(string message) => new(ExitCodes.NotFound, message);
}
