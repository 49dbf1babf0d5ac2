using Entourage.Cli.Infrastructure;
using Entourage.Cli.Tests.Support;

namespace Entourage.Cli.Tests.Verbs;

/// <summary>Exit codes that need no server: nothing listening, bad command lines.</summary>
public sealed class ServerDownAndUsage
{
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    private readonly CliDriver _down = new(new Uri("http://127.0.0.1:1"));

    [Theory]
    [InlineData("team", "list")]
    [InlineData("team", "show", "platform")]
    [InlineData("org", "list", "--json")]
    [InlineData("agent", "list", "--team", "x")]
    public async Task Server_down_is_exit_5_with_advice(params string[] args)
    {
        var r = await _down.RunAsync(args);
        r.ExitCode.ShouldBe(ExitCodes.Unreachable, r.ToString());
        r.Error.ShouldContain("entourage serve");
        r.Out.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("team", "bogus")]
    [InlineData("team")]
    [InlineData("team", "create")]
    [InlineData("agent", "add", "x", "--role", "wizard")]
    public async Task Bad_command_lines_are_exit_2(params string[] args)
    {
        var r = await _down.RunAsync(args);
        r.ExitCode.ShouldBe(ExitCodes.Usage, r.ToString());
        r.Error.ShouldContain("--help");
    }

    [Fact]
    public async Task A_bad_role_lists_the_roles_as_the_API_spells_them()
    {
        var r = await _down.RunAsync("agent", "add", "x", "--role", "boss");
        r.ExitCode.ShouldBe(ExitCodes.Usage, r.ToString());
        r.Error.ShouldContain("'boss' is not a valid value for --role. Use one of: manager, engineer, reviewer.", Case.Sensitive);
        r.Error.ShouldNotContain("Entourage.Client");
        r.Error.ShouldNotContain("Engineer", Case.Sensitive);
    }

    [Fact]
    public async Task Bad_url_is_exit_2()
    {
        var r = await new CliDriver(null).RunAsync("team", "list", "--url", "localhost:8000");
        r.ExitCode.ShouldBe(ExitCodes.Usage, r.ToString());
        r.Error.ShouldContain("http://localhost:8000");
    }

    [Fact]
    public async Task Help_lists_every_verb_and_the_exit_codes()
    {
        var r = await new CliDriver(null).RunAsync("--help");
        r.ExitCode.ShouldBe(0);
        foreach (var verb in new[] { "init", "serve", "org", "team", "agent", "mcp" })
            r.Out.ShouldContain(verb);
        r.Out.ShouldContain("5 server unreachable");
    }
}
