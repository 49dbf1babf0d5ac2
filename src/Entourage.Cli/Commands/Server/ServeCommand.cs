using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Server.Hosting;
using Microsoft.Extensions.Hosting;

namespace Entourage.Cli.Commands.Server;

/// <summary>
/// entourage serve — the server itself in this process, with the same defaults as running Entourage.Server:
/// http://localhost:8000, SQLite under ./.entourage, PostgreSQL when ENTOURAGE_DATABASE_URL is set. Any other
/// arguments go to the host as configuration (e.g. --urls http://127.0.0.1:8100, --Dispatch:MaxConcurrentAgents 8).
/// </summary>
public sealed class ServeCommand : EntourageCommand
{
    private readonly Option<string?> _urls = new("--urls") { Description = "Address(es) to listen on (default http://localhost:8000)." };
    private readonly Option<bool> _noLocalAgents = new("--no-local-agents") { Description = "Run no agent turns in this process: runner nodes (`entourage runner`, PostgreSQL) run them all." };

    public ServeCommand(CliEnvironment env) : base("serve", "Run the Entourage server (API, MCP, dashboard, dispatcher) in this terminal.", env)
    {
        Options.Add(_urls);
        Options.Add(_noLocalAgents);
        // Host configuration flags pass through untouched.
        TreatUnmatchedTokensAsErrors = false;
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var args = new List<string>(ctx.Parse.UnmatchedTokens);
        if (ctx.Get(_urls) is { } urls) args.AddRange(["--urls", urls]);
        if (ctx.Get(_noLocalAgents)) args.Add("--no-local-agents");
        try
        {
            await using var app = EntourageApp.Build([.. args]);
            // Ctrl-C (cancelling ct) stops the host gracefully: running turns get their soft-stop time.
            await app.StartAsync(ct);
            // The real addresses (a port of 0 is resolved only now), so a person or a script knows where to point.
            var listening = string.Join(", ", app.Urls);
            ctx.Out.MarkupLine($"Entourage is listening on [bold]{Markup.Escape(listening)}[/]: dashboard /, API /api/v1, MCP /mcp. Ctrl-C stops it.");
            await app.WaitForShutdownAsync(ct);
            return ExitCodes.Ok;
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("Another Entourage server", StringComparison.Ordinal))
        {
            // A refused start is a user error, not a crash: one clear line, no stack trace.
            throw CliException.Usage(ex.Message);
        }
        catch (IOException ex) when (ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliException(ExitCodes.Conflict, $"{ex.Message} Another program holds the port; pick another with --urls http://localhost:8100.");
        }
    }
}
