using System.Diagnostics;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Tests.Support;
using Entourage.Tests.Infrastructure;

namespace Entourage.Cli.Tests.Verbs;

/// <summary>entourage init in a real git repository, with agent CLIs "installed" on a PATH of our own.</summary>
public abstract class InitVerb(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _repo = null!;
    private string _bin = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await Fixture.StartAsync(store);
        _repo = Directory.CreateDirectory(Path.Combine(_server.DataDirectory, "my-app")).FullName;
        _bin = Directory.CreateDirectory(Path.Combine(_server.DataDirectory, "bin")).FullName;
        Git("init", "-q", "-b", "trunk");
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private void Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = _repo, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        p.ExitCode.ShouldBe(0, p.StandardError.ReadToEnd());
    }

    private CliDriver Cli(string cwd) => new(_server.BaseUrl, cwd, new Dictionary<string, string?> { ["PATH"] = _bin });

    [Fact]
    public async Task Init_creates_a_team_for_the_repository_with_the_installed_clis()
    {
        foreach (var exe in new[] { "codex", "claude" }) await File.WriteAllTextAsync(Path.Combine(_bin, exe), "#!/bin/sh\n");
        var sub = Directory.CreateDirectory(Path.Combine(_repo, "src")).FullName;

        var r = await Cli(sub).RunAsync("init");
        r.ExitCode.ShouldBe(0, r.ToString());
        r.Out.ShouldContain("my-app (team)");
        r.Out.ShouldContain("entourage run");

        var team = (await Cli(sub).RunAsync("team", "show", "my-app", "--json")).Json();
        team["repo_path"]!.GetValue<string>().ShouldBe(_repo);
        team["base_branch"]!.GetValue<string>().ShouldBe("trunk");
        var agents = team["agents"]!.AsArray().ToDictionary(a => a!["name"]!.GetValue<string>(), a => a!["adapter"]!.GetValue<string>());
        agents["manager"].ShouldBe("claude-code");
        agents["eng-1"].ShouldBe("claude-code");
        agents["eng-2"].ShouldBe("codex");

        var again = await Cli(sub).RunAsync("init");
        again.ExitCode.ShouldBe(ExitCodes.Conflict, again.ToString());
    }

    [Fact]
    public async Task Init_outside_a_repository_is_a_usage_error_and_no_cli_found_says_what_to_install()
    {
        var outside = await Cli(_bin).RunAsync("init");
        outside.ExitCode.ShouldBe(ExitCodes.Usage, outside.ToString());
        outside.Error.ShouldContain("git init");

        var r = await Cli(_repo).RunAsync("init", "--slug", "bare", "--engineers", "1");
        r.ExitCode.ShouldBe(0, r.ToString());
        r.Out.ShouldContain("No agent CLI found");
        (await Cli(_repo).RunAsync("agent", "list", "--team", "bare", "--json")).Json().AsArray().Count.ShouldBe(2);
    }
}

public sealed class InitVerbSqlite() : InitVerb(Store.Sqlite);

public sealed class InitVerbPostgres() : InitVerb(Store.Postgres);
