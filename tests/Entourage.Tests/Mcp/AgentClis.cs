using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Entourage.Tests.Mcp;

/// <summary>
/// The real agent CLIs, installed by scripts/test.sh with `npm ci` in tests/agent-clis (pinned versions).
/// Tests that need one fail with the install command when it is missing: they never skip silently.
/// </summary>
public static class AgentClis
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Claude => Require("claude");
    public static string Codex => Require("codex");

    private static string Require(string name)
    {
        var path = Path.Combine(RepoRoot, "tests", "agent-clis", "node_modules", ".bin", name);
        if (!File.Exists(path))
            throw new InvalidOperationException($"The {name} CLI is not installed at {path}. Run scripts/test.sh, or `cd tests/agent-clis && npm ci`.");
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Entourage.slnx"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (Entourage.slnx) above " + AppContext.BaseDirectory);
    }

    /// <summary>Environment for a CLI that must reach only our local servers: own HOME, no telemetry, no updates.</summary>
    public static Dictionary<string, string> IsolatedEnvironment(string home) => new()
    {
        ["HOME"] = home,
        ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin",
        ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1",
        ["DISABLE_AUTOUPDATER"] = "1",
        ["DISABLE_TELEMETRY"] = "1",
        ["DISABLE_ERROR_REPORTING"] = "1",
        // Running as root in CI: Claude Code refuses --dangerously-skip-permissions as root outside a sandbox.
        ["IS_SANDBOX"] = "1",
        // A scripted model that fails fails for good: do not spend minutes retrying it.
        ["CLAUDE_CODE_MAX_RETRIES"] = "1",
        ["NO_COLOR"] = "1",
        ["GIT_AUTHOR_NAME"] = "Entourage Test", ["GIT_AUTHOR_EMAIL"] = "test@entourage.local",
        ["GIT_COMMITTER_NAME"] = "Entourage Test", ["GIT_COMMITTER_EMAIL"] = "test@entourage.local",
    };

    public sealed record Run(int ExitCode, string Stdout, string Stderr)
    {
        public IEnumerable<JsonNode> JsonLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => { try { return JsonNode.Parse(l); } catch (System.Text.Json.JsonException) { return null; } }).OfType<JsonNode>();

        public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
    }

    public static async Task<Run> RunAsync(string exe, IEnumerable<string> args, string workDir, IDictionary<string, string> env, string? stdin = null, CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo(exe)
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var outTask = Task.Run(async () => { string? l; while ((l = await p.StandardOutput.ReadLineAsync()) is not null) lock (stdout) stdout.AppendLine(l); });
        var errTask = Task.Run(async () => { string? l; while ((l = await p.StandardError.ReadLineAsync()) is not null) lock (stderr) stderr.AppendLine(l); });
        if (stdin is not null) await p.StandardInput.WriteAsync(stdin);
        p.StandardInput.Close();
        try
        {
            await p.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw;
        }
        await Task.WhenAll(outTask, errTask);
        return new Run(p.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// A CODEX_HOME whose config.toml points the Codex CLI at a scripted model: a custom Responses provider at
    /// <paramref name="modelUrl"/> (OPENAI_BASE_URL alone is not honoured by 0.169), without retries so a script
    /// error fails the turn at once. Our MCP server is not in it: the dispatcher's codex adapter passes that, and
    /// turns off the user's own (broken) server that it does hold.
    /// </summary>
    public static string WriteCodexHome(Uri modelUrl)
    {
        var home = Directory.CreateTempSubdirectory("entourage-codex-home-").FullName;
        File.WriteAllText(Path.Combine(home, "config.toml"), $$"""
            model = "{{CodexModel}}"
            model_provider = "scripted"

            [model_providers.scripted]
            name = "scripted"
            base_url = "{{modelUrl.ToString().TrimEnd('/')}}/v1"
            wire_api = "responses"
            env_key = "OPENAI_API_KEY"
            request_max_retries = 0
            stream_max_retries = 0

            # A user's own server: the codex adapter must turn it off (required and broken, it would stop the turn).
            [mcp_servers.users-own]
            command = "/bin/false"
            required = true

            """);
        return home;
    }

    /// <summary>The model the Codex tests name (priced in the default price table).</summary>
    public const string CodexModel = "gpt-5-codex";

    /// <summary>
    /// Environment for a Codex CLI talking to a scripted model: its own CODEX_HOME and HOME, a dummy key, and
    /// RUST_LOG passed on when the test run sets it (RUST_LOG=debug shows Codex's MCP start-up).
    /// </summary>
    public static Dictionary<string, string> CodexEnvironment(string codexHome)
    {
        var env = new Dictionary<string, string>
        {
            ["HOME"] = codexHome,
            ["CODEX_HOME"] = codexHome,
            ["OPENAI_API_KEY"] = "sk-test-scripted",
            ["NO_COLOR"] = "1",
        };
        if (Environment.GetEnvironmentVariable("RUST_LOG") is { Length: > 0 } rustLog) env["RUST_LOG"] = rustLog;
        return env;
    }

    /// <summary>`claude -p` as the dispatcher launches it: MCP config for our /mcp, only our tools plus the given ones.</summary>
    public static Task<Run> ClaudeAsync(string prompt, string workDir, Uri mcpUrl, string token, Uri modelUrl, CancellationToken ct = default)
    {
        var home = Directory.CreateTempSubdirectory("entourage-claude-home-").FullName;
        var config = Path.Combine(home, "mcp.json");
        File.WriteAllText(config, new JsonObject
        {
            ["mcpServers"] = new JsonObject
            {
                ["entourage"] = new JsonObject
                {
                    ["type"] = "http",
                    ["url"] = mcpUrl.ToString(),
                    ["headers"] = new JsonObject { ["Authorization"] = "Bearer " + token },
                },
            },
        }.ToJsonString());
        var env = IsolatedEnvironment(home);
        env["ANTHROPIC_BASE_URL"] = modelUrl.ToString().TrimEnd('/');
        env["ANTHROPIC_API_KEY"] = "sk-ant-test-scripted";
        return RunAsync(Claude, ["-p", prompt, "--output-format", "stream-json", "--verbose", "--model", "claude-sonnet-4-20250514",
            "--mcp-config", config, "--strict-mcp-config", "--allowedTools", "mcp__entourage", "--dangerously-skip-permissions"], workDir, env, ct: ct);
    }
}
