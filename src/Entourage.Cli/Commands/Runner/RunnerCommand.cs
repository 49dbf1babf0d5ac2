using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Server.Runners;
using Microsoft.Extensions.Hosting;

namespace Entourage.Cli.Commands.Runner;

/// <summary>
/// entourage runner — a runner node in this terminal (issue #10, docs/runners.md): joins the server's PostgreSQL
/// database (--postgres), or, on a machine that must not reach the database, the server's runner protocol over
/// HTTPS (--runner-token); runs the turns of the agents placed on it (by runner_labels) in its own clones of the
/// teams' repositories, and pushes task branches to each team's remote. Agents it launches reach the server at
/// --server (default: --url).
/// </summary>
public sealed class RunnerCommand : EntourageCommand
{
    private readonly Option<string?> _postgres = new("--postgres") { Description = "PostgreSQL connection string of the server's database (default: $ENTOURAGE_DATABASE_URL)." };
    private readonly Option<string?> _token = new("--runner-token") { Description = "Run over HTTPS with this runner token (ent_runner_…, minted with POST /api/v1/runner-tokens) instead of --postgres (default: $ENTOURAGE_RUNNER_TOKEN)." };
    private readonly Option<string?> _name = new("--name") { Description = "HTTP runner: the node's name in GET /nodes (default: host name and process id)." };
    private readonly Option<string?> _server = new("--server") { Description = "URL the agents use to reach the server's API and MCP endpoint (default: --url, $ENTOURAGE_URL, http://localhost:8000)." };
    private readonly Option<string?> _labels = new("--labels") { Description = "Comma-separated labels this runner offers (e.g. gpu,eu-west); agents pinned by runner_labels need all of theirs here." };
    private readonly Option<int?> _concurrency = new("--concurrency") { Description = "Agent turns this runner runs at once (default 32)." };
    private readonly Option<string?> _dataDir = new("--data-dir") { Description = $"Where clones, worktrees and turn files go (default ./{RunnerHost.DefaultDataDirectory})." };

    public RunnerCommand(CliEnvironment env) : base("runner", "Run agent turns for a PostgreSQL-backed server on this machine (a runner node), on its database or over HTTPS with a runner token.", env)
    {
        Options.Add(_postgres);
        Options.Add(_token);
        Options.Add(_name);
        Options.Add(_server);
        Options.Add(_labels);
        Options.Add(_concurrency);
        Options.Add(_dataDir);
        // Host configuration flags (--Dispatch:LeaseSeconds 30) pass through untouched.
        TreatUnmatchedTokensAsErrors = false;
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        // An explicit --runner-token means HTTP mode even where ENTOURAGE_DATABASE_URL is set for other tools.
        var token = ctx.Get(_token) ?? (ctx.Get(_postgres) is null ? ctx.Env.GetEnv("ENTOURAGE_RUNNER_TOKEN") : null);
        var settings = new RunnerSettings(
            ctx.Get(_postgres) ?? (token is null ? ctx.Env.GetEnv("ENTOURAGE_DATABASE_URL") : null),
            ctx.Get(_server) ?? ctx.ServerUrl.ToString().TrimEnd('/'),
            ctx.Get(_labels),
            ctx.Get(_concurrency),
            ctx.Get(_dataDir),
            [.. ctx.Parse.UnmatchedTokens],
            token,
            ctx.Get(_name));
        try
        {
            using var host = RunnerHost.Build(settings);
            // Ctrl-C stops claiming, lets running turns finish for their soft-stop time, then releases the rest.
            await host.StartAsync(ct);
            await host.WaitForShutdownAsync(ct);
            // An HTTP runner whose token the server refused stops by itself: say so in the exit code.
            return Entourage.Server.Runners.Http.HttpRunnerService.ExitCode == 0 ? ExitCodes.Ok : ExitCodes.Error;
        }
        catch (RunnerConfigurationException ex)
        {
            throw CliException.Usage(ex.Message);
        }
    }
}
