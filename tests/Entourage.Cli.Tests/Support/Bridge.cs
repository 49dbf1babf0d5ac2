using System.Collections.Concurrent;
using ModelContextProtocol.Client;

namespace Entourage.Cli.Tests.Support;

/// <summary>
/// The real `entourage mcp` process (the built CLI, run with `dotnet entourage.dll mcp`), connected to through the
/// official MCP client's stdio transport, exactly as Claude Code or another MCP client spawns it.
/// </summary>
public sealed class Bridge : IAsyncDisposable
{
    private Bridge(McpClient client, ConcurrentQueue<string> stderr)
    {
        Client = client;
        _stderr = stderr;
    }

    private readonly ConcurrentQueue<string> _stderr;

    public McpClient Client { get; }

    public string Stderr => string.Join('\n', _stderr);

    /// <summary>src/Entourage.Cli/bin/{Configuration}/{tfm}/entourage.dll, built with this test project.</summary>
    public static string CliDll
    {
        get
        {
            var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var repo = testBin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            var dll = Path.Combine(repo, "src", "Entourage.Cli", "bin", testBin.Parent!.Name, testBin.Name, "entourage.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build src/Entourage.Cli first ({dll} is missing).");
        }
    }

    /// <summary>
    /// Transport options for `entourage mcp --url <paramref name="url"/>` (no --url when null) with the given environment. ENTOURAGE_*
    /// variables of the test process are cleared so only what the test passes reaches the bridge.
    /// </summary>
    public static StdioClientTransportOptions Options(Uri? url, IDictionary<string, string?> env, ConcurrentQueue<string> stderr, params string[] extraArgs)
    {
        var variables = new Dictionary<string, string?>
        {
            ["ENTOURAGE_TOKEN"] = null,
            ["ENTOURAGE_AGENT_TOKEN"] = null,
            ["ENTOURAGE_URL"] = null,
            // No user config file leaks into the bridge.
            ["ENTOURAGE_CONFIG"] = Path.Combine(Path.GetTempPath(), "entourage-cli-tests-no-config.json"),
        };
        foreach (var (k, v) in env) variables[k] = v;
        return new StdioClientTransportOptions
        {
            Name = "entourage",
            Command = FakeAgents.DotnetHost,
            Arguments = url is null ? [CliDll, "mcp", .. extraArgs] : [CliDll, "mcp", "--url", url.ToString(), .. extraArgs],
            EnvironmentVariables = variables,
            StandardErrorLines = stderr.Enqueue,
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        };
    }

    /// <summary>Spawns the bridge with an agent token (ENTOURAGE_AGENT_TOKEN, as the dispatcher passes it) and connects.</summary>
    public static Task<Bridge> ConnectAsync(Uri url, string agentToken) =>
        ConnectAsync(url, new Dictionary<string, string?> { ["ENTOURAGE_AGENT_TOKEN"] = agentToken });

    public static async Task<Bridge> ConnectAsync(Uri? url, IDictionary<string, string?> env, params string[] extraArgs)
    {
        var stderr = new ConcurrentQueue<string>();
        var transport = new StdioClientTransport(Options(url, env, stderr, extraArgs));
        var client = await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken);
        return new Bridge(client, stderr);
    }

    public async ValueTask DisposeAsync() => await Client.DisposeAsync();
}
