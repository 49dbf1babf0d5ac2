using System.Text;
using System.Text.RegularExpressions;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Tests.Support;
using Entourage.Tests.Infrastructure;
using Spectre.Console;
using Spectre.Console.Testing;

namespace Entourage.Cli.Tests.Verbs;

/// <summary>`entourage serve` hosts the real server in the CLI's process, once per store; Ctrl-C stops it cleanly.</summary>
public abstract partial class ServeVerb(Store store) : IAsyncLifetime
{
    private string _dataDir = null!;
    private string? _pg;

    public async ValueTask InitializeAsync()
    {
        _dataDir = Directory.CreateTempSubdirectory("entourage-cli-serve-").FullName;
        if (store == Store.Postgres) _pg = await PostgresTestDatabase.CreateAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_pg is not null) await PostgresTestDatabase.DropAsync(_pg);
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>A stdout that completes <see cref="Listening"/> with the address once serve announces it.</summary>
    private sealed partial class AnnouncingWriter : StringWriter
    {
        public TaskCompletionSource<Uri> Listening { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Write(string? value)
        {
            lock (this) base.Write(value);
            string text;
            lock (this) text = ToString();
            if (Address().Match(text) is { Success: true } m) Listening.TrySetResult(new Uri(m.Groups[1].Value));
        }

        public override void Write(char value) => Write(value.ToString());

        [GeneratedRegex(@"listening on (http://[0-9.]+:[0-9]+)")]
        private static partial Regex Address();
    }

    private (Task<int> Run, AnnouncingWriter Out, TestConsole Error) Serve(CancellationToken ct)
    {
        var output = new AnnouncingWriter();
        var error = new TestConsole().Width(250);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 250;
        var env = new CliEnvironment
        {
            Out = console,
            Error = error,
            GetEnv = _ => null,
            InputIsTerminal = false,
        };
        string[] args = ["serve", "--urls", "http://127.0.0.1:0", $"--Storage:DataDirectory={_dataDir}", "--Dispatch:Enabled=false", "--Logging:LogLevel:Default=Warning"];
        if (_pg is not null) args = [.. args, $"--Storage:DatabaseUrl={_pg}"];
        return (Task.Run(() => EntourageCli.RunAsync(args, env, ct), ct), output, error);
    }

    [Fact]
    public async Task Serve_answers_the_cli_and_stops_on_ctrl_c()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var (run, output, error) = Serve(stop.Token);
        var url = await output.Listening.Task.WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);

        var cli = new CliDriver(url);
        var orgs = await cli.RunAsync("org", "list", "--json");
        var serving = run.IsCompleted ? $"exited {await run}" : "running";
        orgs.ExitCode.ShouldBe(0, $"{orgs}\n--- serve ({serving}):\n{output}\n{error.Output}");
        orgs.Json().AsArray().Select(o => o!["slug"]!.GetValue<string>()).ShouldContain("default");
        (await cli.RunAsync("team", "create", "Platform")).ExitCode.ShouldBe(0);

        if (store == Store.Sqlite)
        {
            // A second server on the same SQLite database is refused with one clear line, not a stack trace.
            using var second = new CancellationTokenSource();
            var (again, _, againError) = Serve(second.Token);
            (await again).ShouldBe(ExitCodes.Usage, againError.Output);
            againError.Output.ShouldContain("Another Entourage server");
        }

        await stop.CancelAsync();
        (await run).ShouldBe(ExitCodes.Ok, error.Output);
        (await cli.RunAsync("team", "list")).ExitCode.ShouldBe(ExitCodes.Unreachable);
    }
}

public sealed class ServeVerbSqlite() : ServeVerb(Store.Sqlite);

public sealed class ServeVerbPostgres() : ServeVerb(Store.Postgres);
