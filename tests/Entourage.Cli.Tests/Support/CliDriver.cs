using System.Text.Json.Nodes;
using Entourage.Cli;
using Entourage.Cli.Infrastructure;
using Spectre.Console.Testing;

namespace Entourage.Cli.Tests.Support;

/// <summary>What one `entourage …` invocation produced.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public JsonNode Json() => JsonNode.Parse(Out) ?? throw new InvalidOperationException("stdout was JSON null");

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}

/// <summary>
/// Runs the real command tree in-process with Spectre's TestConsole for stdout and stderr, an isolated
/// environment (no user config, no inherited ENTOURAGE_* variables), against the given server.
/// </summary>
public sealed class CliDriver(Uri? serverUrl, string? workingDirectory = null, IDictionary<string, string?>? env = null)
{
    public bool InputIsTerminal { get; init; }

    /// <summary>Optional handler under the CLI's HTTP client, e.g. to see the headers it sends.</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    public async Task<CliResult> RunAsync(params string[] args) => await RunAsync(args, CancellationToken.None);

    public async Task<CliResult> RunAsync(string[] args, CancellationToken ct)
    {
        var output = new TestConsole().Width(250);
        var error = new TestConsole().Width(250);
        var variables = new Dictionary<string, string?>
        {
            // No user's config file leaks into a test.
            ["ENTOURAGE_CONFIG"] = Path.Combine(Path.GetTempPath(), "entourage-cli-tests-no-config.json"),
            ["PATH"] = Environment.GetEnvironmentVariable("PATH"),
        };
        if (env is not null)
            foreach (var (k, v) in env) variables[k] = v;
        var environment = new CliEnvironment
        {
            Out = output,
            Error = error,
            GetEnv = name => variables.GetValueOrDefault(name),
            WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
            InputIsTerminal = InputIsTerminal,
            HttpHandler = HttpHandler,
        };
        var full = serverUrl is null ? args : [.. args, "--url", serverUrl.ToString()];
        var exit = await EntourageCli.RunAsync(full, environment, ct);
        return new CliResult(exit, output.Output, error.Output);
    }
}
