using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Agents.Adapters;
using Entourage.Server.Storage.Entities;

namespace Entourage.Tests.Mcp;

/// <summary>
/// The command line the codex adapter builds (no CLI needed): our MCP server required and auto-approved, the
/// token only in the environment, the prompt on stdin, and no approval prompt under any sandbox choice.
/// </summary>
public sealed class CodexAdapterLaunch
{
    private const string Token = "ent_secret_token_value";

    private static Task<LaunchSpec> BuildAsync(JsonObject config, string? model = "gpt-5-codex", string? userConfig = null, string? resume = null)
    {
        var agent = new Agent { Id = Guid.NewGuid(), TeamId = Guid.NewGuid(), Name = "eng-codex", Role = AgentRole.Engineer, Model = model, Adapter = "codex" };
        var codexHome = Directory.CreateTempSubdirectory("entourage-codex-home-").FullName;
        if (userConfig is not null) File.WriteAllText(Path.Combine(codexHome, "config.toml"), userConfig);
        var env = new Dictionary<string, string> { ["ENTOURAGE_AGENT_TOKEN"] = Token, ["PATH"] = "/usr/bin", ["CODEX_HOME"] = codexHome };
        var ctx = new LaunchContext(agent, config, "/opt/codex", "/repo/.worktrees/task-7-x", "Do task 7.", "http://127.0.0.1:8000/", Token,
            "/data/turns/1", resume, env);
        return new CodexAdapter().BuildAsync(ctx, TestContext.Current.CancellationToken);
    }

    /// <summary>The values of every <c>-c</c> override, in order.</summary>
    private static List<string> Overrides(LaunchSpec spec) =>
        spec.Arguments.Select((a, i) => (a, i)).Where(x => x.a == "-c").Select(x => spec.Arguments[x.i + 1]).ToList();

    [Fact]
    public async Task Default_launch_points_codex_at_our_mcp_server_with_the_token_from_the_environment()
    {
        var spec = await BuildAsync(new JsonObject());

        spec.FileName.ShouldBe("/opt/codex");
        spec.Arguments.Take(3).ShouldBe(["exec", "--json", "--skip-git-repo-check"]);
        spec.Arguments.ShouldContain("--dangerously-bypass-approvals-and-sandbox");
        spec.Arguments[^1].ShouldBe("-", "the prompt is read from stdin");
        spec.Stdin.ShouldBe("Do task 7.");
        spec.Arguments.ShouldNotContain(a => a.Contains(Token), "the token never appears on a command line");
        spec.Environment["ENTOURAGE_AGENT_TOKEN"].ShouldBe(Token);
        var model = spec.Arguments.ToList().IndexOf("--model");
        spec.Arguments[model + 1].ShouldBe("gpt-5-codex");

        Overrides(spec).ShouldBe([
            "mcp_servers.entourage.url=\"http://127.0.0.1:8000/mcp\"",
            "mcp_servers.entourage.bearer_token_env_var=\"ENTOURAGE_AGENT_TOKEN\"",
            "mcp_servers.entourage.required=true",
            "mcp_servers.entourage.startup_timeout_sec=60",
            "mcp_servers.entourage.tool_timeout_sec=3660",
            "mcp_servers.entourage.default_tools_approval_mode=\"approve\"",
            "features.unbounded_connection_retries=false",
        ]);
    }

    [Fact]
    public async Task A_configured_sandbox_replaces_the_bypass_and_never_asks_for_approval()
    {
        var spec = await BuildAsync(new JsonObject { ["sandbox"] = "workspace-write", ["args"] = new JsonArray("--add-dir", "/srv/cache") });

        spec.Arguments.ShouldNotContain("--dangerously-bypass-approvals-and-sandbox");
        var sandbox = spec.Arguments.ToList().IndexOf("--sandbox");
        spec.Arguments[sandbox + 1].ShouldBe("workspace-write");
        Overrides(spec).ShouldContain("approval_policy=\"never\"");
        // Extra arguments come before the stdin marker so they stay options, not the prompt.
        spec.Arguments.TakeLast(3).ShouldBe(["--add-dir", "/srv/cache", "-"]);
    }

    [Fact]
    public async Task A_later_turn_on_the_same_task_resumes_the_codex_thread_with_the_same_options()
    {
        const string thread = "0199a213-81c0-7800-8aa1-bbab2a035a53";
        var fresh = await BuildAsync(new JsonObject());
        var resumed = await BuildAsync(new JsonObject(), resume: thread);

        resumed.Arguments.Take(4).ShouldBe(["exec", "resume", "--json", "--skip-git-repo-check"]);
        resumed.Arguments.TakeLast(2).ShouldBe([thread, "-"], "the thread id, then the prompt from stdin");
        resumed.Stdin.ShouldBe("Do task 7.");
        // Everything else (MCP server, token handling, model, sandbox choice) is the same as a fresh exec.
        resumed.Arguments.Where(a => a is not ("resume" or thread)).ShouldBe(fresh.Arguments);

        // `exec resume` has no --sandbox: the configured sandbox goes in as its config key instead.
        var sandboxed = await BuildAsync(new JsonObject { ["sandbox"] = "workspace-write" }, resume: thread);
        sandboxed.Arguments.ShouldNotContain("--sandbox");
        sandboxed.Arguments.ShouldNotContain("--dangerously-bypass-approvals-and-sandbox");
        Overrides(sandboxed).ShouldContain("sandbox_mode=\"workspace-write\"");
        Overrides(sandboxed).ShouldContain("approval_policy=\"never\"");
    }

    [Fact]
    public async Task A_claude_model_name_is_not_passed_to_codex()
    {
        var spec = await BuildAsync(new JsonObject(), model: "claude-sonnet-4-20250514");
        spec.Arguments.ShouldNotContain("--model");
    }

    private const string UserConfig = """"
        model = "o3"
        notes = """
        [mcp_servers.not-a-server]
        """

        [mcp_servers.docs]
        url = "https://docs.example.com/mcp"

        [mcp_servers.files.env]
        ROOT = "/srv"

        [mcp_servers]
        inline = { command = "inline-mcp" }

        [profiles.fast]
        model = "o4-mini"
        mcp_servers.dotted.command = "dotted-mcp"
        """";

    [Fact]
    public void The_users_own_servers_are_read_from_every_way_config_toml_names_them()
    {
        CodexUserMcpServers.Parse(UserConfig).Distinct().Order(StringComparer.Ordinal).ShouldBe(["docs", "files", "inline"]);
        CodexUserMcpServers.Parse("mcp_servers.top.url = \"http://x\"\n[mcp_servers.\"quoted\"]\ncommand = \"q\"").Distinct().Order(StringComparer.Ordinal)
            .ShouldBe(["quoted", "top"]);
    }

    [Fact]
    public async Task The_users_own_mcp_servers_are_turned_off_unless_config_keeps_them()
    {
        var strict = await BuildAsync(new JsonObject(), userConfig: UserConfig);
        Overrides(strict).Where(o => o.EndsWith(".enabled=false", StringComparison.Ordinal))
            .ShouldBe(["mcp_servers.docs.enabled=false", "mcp_servers.files.enabled=false", "mcp_servers.inline.enabled=false"]);

        var keep = await BuildAsync(new JsonObject { ["user_mcp_servers"] = true }, userConfig: UserConfig);
        Overrides(keep).ShouldNotContain(o => o.EndsWith(".enabled=false", StringComparison.Ordinal));
        Overrides(keep).ShouldContain("mcp_servers.entourage.required=true");
    }

    [Fact]
    public async Task A_user_server_named_entourage_is_left_alone_and_ours_takes_another_name()
    {
        var spec = await BuildAsync(new JsonObject(), userConfig: "[mcp_servers.entourage]\ncommand = \"entourage\"\nargs = [\"mcp\"]\n");
        Overrides(spec).ShouldContain("mcp_servers.entourage.enabled=false");
        Overrides(spec).ShouldContain("mcp_servers.entourage_2.url=\"http://127.0.0.1:8000/mcp\"");
        Overrides(spec).ShouldNotContain(o => o.StartsWith("mcp_servers.entourage.url", StringComparison.Ordinal));
    }
}
