using Entourage.Server.Agents;
using Entourage.Server.Dispatch;
using Entourage.Server.Storage;

namespace Entourage.Server.Runners;

/// <summary>A runner could not start as configured; the message says what to change.</summary>
public sealed class RunnerConfigurationException(string message) : Exception(message);

/// <summary>What `entourage runner` was told (flags or their environment equivalents).</summary>
public sealed record RunnerSettings(
    string? Postgres = null,
    string? ServerUrl = null,
    string? Labels = null,
    int? Concurrency = null,
    string? DataDirectory = null,
    IReadOnlyList<string>? HostArgs = null,
    string? RunnerToken = null,
    string? Name = null)
{
    /// <summary>Over HTTPS with a runner token, for machines that must not reach the database.</summary>
    public bool OverHttp => !string.IsNullOrWhiteSpace(RunnerToken) && string.IsNullOrWhiteSpace(Postgres);
}

/// <summary>
/// A runner node (issue #10), in one of two modes (docs/runners.md). On the database (<c>--postgres</c>): the
/// server's own dispatcher (claims with SKIP LOCKED, leases, heartbeats, the LISTEN doorbell, the lease sweeper)
/// without the API, MCP, dashboard or merge queue. Over HTTPS (<c>--runner-token</c>, no <c>--postgres</c>): the
/// runner protocol of the server at <c>--server</c>, which claims on its behalf with the same claimer. Either way
/// it registers as a node with role <c>runner</c>, runs only agents whose <c>runner_labels</c> it has, runs their
/// turns with the same code in its own clones of the teams' repositories, and pushes task branches to the team's
/// remote. Agents it launches talk to the server over MCP. The SQLite store belongs to a single process, so
/// runners need a PostgreSQL-backed server.
/// </summary>
public static class RunnerHost
{
    public const string DefaultDataDirectory = ".entourage-runner";

    public static IHost Build(RunnerSettings s)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [.. s.HostArgs ?? []],
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = typeof(RunnerHost).Assembly.GetName().Name,
        });
        builder.Configuration.AddEnvironmentVariables("ENTOURAGE__");
        var keys = new Dictionary<string, string?>
        {
            ["Dispatch:Role"] = "runner",
            ["Dispatch:Enabled"] = "true",
            ["Storage:DataDirectory"] = s.DataDirectory ?? (builder.Configuration["Storage:DataDirectory"] is { Length: > 0 } d ? d : DefaultDataDirectory),
        };
        if (s.Postgres is { Length: > 0 } pg) keys["Storage:DatabaseUrl"] = pg;
        if (s.ServerUrl is { Length: > 0 } url) keys["Dispatch:ServerUrl"] = url;
        if (s.Labels is not null) keys["Dispatch:Labels"] = s.Labels;
        if (s.Concurrency is { } n) keys["Dispatch:MaxConcurrentAgents"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (s.Name is { Length: > 0 } name) keys["Runner:Name"] = name;
        builder.Configuration.AddInMemoryCollection(keys);
        if (!string.IsNullOrWhiteSpace(s.RunnerToken) && !string.IsNullOrWhiteSpace(s.Postgres))
            throw new RunnerConfigurationException("Pass either --postgres (a runner on the database) or --runner-token (a runner over HTTPS), not both.");
        if (s.OverHttp) return BuildHttp(builder, s.RunnerToken!.Trim());
        Validate(builder.Configuration);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddEntourageStorage(builder.Configuration);
        builder.Services.AddEntourageAgents(builder.Configuration);
        builder.Services.AddEntourageDispatch(builder.Configuration);
        // Soft stop drains running turns for Dispatch:ShutdownTimeoutSeconds; give the host that long and a bit.
        var drain = builder.Configuration.GetValue("Dispatch:ShutdownTimeoutSeconds", 10.0);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(drain + 15));
        return builder.Build();
    }

    /// <summary>An HTTP runner: no database, the runner protocol of the server at Dispatch:ServerUrl.</summary>
    private static IHost BuildHttp(HostApplicationBuilder builder, string token)
    {
        var config = builder.Configuration;
        ValidateCommon(config);
        if (!token.StartsWith(Features.RunnerTokens.RunnerTokenEndpoints.Prefix, StringComparison.Ordinal))
            throw new RunnerConfigurationException($"--runner-token takes a runner token ({Features.RunnerTokens.RunnerTokenEndpoints.Prefix}…), minted by the server's admin with POST /api/v1/runner-tokens.");
        var server = new Uri(config["Dispatch:ServerUrl"]!.TrimEnd('/') + "/");
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<DispatchOptions>().Bind(config.GetSection("Dispatch"));
        builder.Services.AddOptions<StorageOptions>().Bind(config.GetSection("Storage"));
        builder.Services.AddOptions<Http.HttpRunnerOptions>().Bind(config.GetSection("Runner"));
        builder.Services.AddEntourageAgents(config);
        DispatchRegistration.AddTurnExecution(builder.Services);
        builder.Services.AddSingleton<Http.RunnerSession>();
        builder.Services.AddHttpClient<Http.RunnerApiClient>(c =>
        {
            c.BaseAddress = server;
            c.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            // A claim waits up to 25 s on the server.
            c.Timeout = TimeSpan.FromSeconds(90);
        });
        builder.Services.AddHostedService<Http.HttpRunnerService>();
        var drain = config.GetValue("Dispatch:ShutdownTimeoutSeconds", 10.0);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(drain + 15));
        return builder.Build();
    }

    private static void Validate(IConfiguration config)
    {
        var storage = new StorageOptions();
        config.GetSection("Storage").Bind(storage);
        storage.DatabaseUrl ??= config["ENTOURAGE_DATABASE_URL"] is { Length: > 0 } u ? u : null;
        if (!storage.UsePostgres || storage.DatabaseUrl!.Contains("Data Source", StringComparison.OrdinalIgnoreCase) || storage.DatabaseUrl.EndsWith(".db", StringComparison.OrdinalIgnoreCase))
            throw new RunnerConfigurationException(
                "A runner needs the PostgreSQL database its server uses: pass --postgres \"Host=…;Database=…;Username=…;Password=…\" " +
                "(or set ENTOURAGE_DATABASE_URL). The embedded SQLite store is single-process, so runners cannot share it; " +
                "start the server with PostgreSQL (ENTOURAGE_DATABASE_URL) to add runner nodes. On a machine that must not reach the " +
                "database, pass --runner-token ent_runner_… instead (minted with POST /api/v1/runner-tokens) to run over HTTPS.");
        ValidateCommon(config);
    }

    private static void ValidateCommon(IConfiguration config)
    {
        var server = config["Dispatch:ServerUrl"];
        if (string.IsNullOrWhiteSpace(server) || !Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new RunnerConfigurationException(
                "Tell the runner where the server is: --server http://server-host:8000. The agents it launches call the server's MCP endpoint and API there.");
        try
        {
            NodeLabels.FromConfig(config["Dispatch:Labels"]);
        }
        catch (ArgumentException ex)
        {
            throw new RunnerConfigurationException(ex.Message + " Pass them as --labels gpu,eu-west.");
        }
        if (config.GetValue("Dispatch:MaxConcurrentAgents", 32) < 1)
            throw new RunnerConfigurationException("--concurrency must be at least 1: the number of agent turns this runner may run at once.");
    }

    /// <summary>
    /// Parses `runner` arguments as Entourage.Server takes them (the CLI has its own parser for the same flags):
    /// --postgres, --runner-token, --server, --name, --labels, --concurrency, --data-dir ($ENTOURAGE_RUNNER_TOKEN when
    /// no --postgres is given); anything else goes to the host as configuration.
    /// </summary>
    public static RunnerSettings Parse(IReadOnlyList<string> args)
    {
        var s = new RunnerSettings();
        var rest = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new RunnerConfigurationException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--postgres": s = s with { Postgres = Value() }; break;
                case "--server": s = s with { ServerUrl = Value() }; break;
                case "--labels": s = s with { Labels = Value() }; break;
                case "--data-dir": s = s with { DataDirectory = Value() }; break;
                case "--runner-token": s = s with { RunnerToken = Value() }; break;
                case "--name": s = s with { Name = Value() }; break;
                case "--concurrency":
                    var v = Value();
                    s = s with { Concurrency = int.TryParse(v, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : throw new RunnerConfigurationException($"--concurrency takes a whole number, not '{v}'.") };
                    break;
                default: rest.Add(args[i]); break;
            }
        }
        if (s.RunnerToken is null && s.Postgres is null && Environment.GetEnvironmentVariable("ENTOURAGE_RUNNER_TOKEN") is { Length: > 0 } token)
            s = s with { RunnerToken = token };
        return s with { HostArgs = rest };
    }
}
