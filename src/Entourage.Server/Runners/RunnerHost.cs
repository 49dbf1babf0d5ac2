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
    IReadOnlyList<string>? HostArgs = null);

/// <summary>
/// A runner node (issue #10): the server's own dispatcher (claims with SKIP LOCKED, leases, heartbeats, the
/// LISTEN doorbell, the lease sweeper) without the API, MCP, dashboard or merge queue. It registers itself as a
/// node with role <c>runner</c>, claims only agents whose <c>runner_labels</c> it has, runs their turns in its own
/// clones of the teams' repositories, and pushes task branches to the team's remote. Agents it launches talk to
/// the server (<c>--server</c>) over MCP. PostgreSQL only: the SQLite store belongs to a single process.
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
        builder.Configuration.AddInMemoryCollection(keys);
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

    private static void Validate(IConfiguration config)
    {
        var storage = new StorageOptions();
        config.GetSection("Storage").Bind(storage);
        storage.DatabaseUrl ??= config["ENTOURAGE_DATABASE_URL"] is { Length: > 0 } u ? u : null;
        if (!storage.UsePostgres || storage.DatabaseUrl!.Contains("Data Source", StringComparison.OrdinalIgnoreCase) || storage.DatabaseUrl.EndsWith(".db", StringComparison.OrdinalIgnoreCase))
            throw new RunnerConfigurationException(
                "A runner needs the PostgreSQL database its server uses: pass --postgres \"Host=…;Database=…;Username=…;Password=…\" " +
                "(or set ENTOURAGE_DATABASE_URL). The embedded SQLite store is single-process, so runners cannot share it; " +
                "start the server with PostgreSQL (ENTOURAGE_DATABASE_URL) to add runner nodes.");
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
    /// --postgres, --server, --labels, --concurrency, --data-dir; anything else goes to the host as configuration.
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
                case "--concurrency":
                    var v = Value();
                    s = s with { Concurrency = int.TryParse(v, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : throw new RunnerConfigurationException($"--concurrency takes a whole number, not '{v}'.") };
                    break;
                default: rest.Add(args[i]); break;
            }
        }
        return s with { HostArgs = rest };
    }
}
