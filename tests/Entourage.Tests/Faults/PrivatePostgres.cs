using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Entourage.Tests.Faults;

/// <summary>
/// A throwaway PostgreSQL cluster of this test alone (initdb into a temp directory, pg_ctl on a free port), so a
/// test can stop and start the database under a running server without touching the shared cluster others use.
/// Runs the binaries as the postgres OS user when the test runs as root (CI), as the current user otherwise.
/// ENTOURAGE_PG_BIN overrides the binary directory (default: the newest /usr/lib/postgresql/*/bin).
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _dir;

    public int Port { get; }
    public string ConnectionString { get; }

    private PrivatePostgres(string bin, string dir, int port)
    {
        _bin = bin;
        _dir = dir;
        Port = port;
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=entourage;Timeout=5;Command Timeout=30";
    }

    public static async Task<PrivatePostgres> StartAsync()
    {
        var bin = Environment.GetEnvironmentVariable("ENTOURAGE_PG_BIN") is { Length: > 0 } b ? b
            : Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                    .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).FirstOrDefault()
                : null;
        if (bin is null) throw new InvalidOperationException("No PostgreSQL binaries found: install postgresql (apt-get install postgresql) or set ENTOURAGE_PG_BIN.");
        var dir = Directory.CreateTempSubdirectory("entourage-privatepg-").FullName;
        if (Environment.UserName == "root") await RunAsync("chown", ["-R", "postgres:postgres", dir]);
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0)) { l.Start(); port = ((IPEndPoint)l.LocalEndpoint).Port; l.Stop(); }
        var pg = new PrivatePostgres(bin, dir, port);
        await pg.AsPostgresAsync("initdb", ["-D", pg.Data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        await pg.StartServerAsync();
        await using (var conn = new NpgsqlConnection($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false"))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE DATABASE entourage", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return pg;
    }

    private string Data => Path.Combine(_dir, "data");

    /// <summary>pg_ctl start, waiting until it accepts connections.</summary>
    public Task StartServerAsync() => AsPostgresAsync("pg_ctl", ["-D", Data, "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "60", "-o",
        $"-p {Port} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", "start"]);

    /// <summary>pg_ctl stop: "fast" (clients disconnected, clean shutdown) or "immediate" (like a crash; recovery on start).</summary>
    public Task StopServerAsync(bool immediate) => AsPostgresAsync("pg_ctl", ["-D", Data, "-m", immediate ? "immediate" : "fast", "-w", "-t", "60", "stop"]);

    private Task AsPostgresAsync(string tool, string[] args) =>
        Environment.UserName == "root"
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args])
            : RunAsync(Path.Combine(_bin, tool), args);

    private static async Task RunAsync(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await p.WaitForExitAsync(cts.Token);
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {p.ExitCode}: {await stdout} {await stderr}");
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try { await StopServerAsync(immediate: true); } catch (InvalidOperationException) { } // already stopped
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
