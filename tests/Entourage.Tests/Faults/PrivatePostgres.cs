using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Entourage.Tests.Faults;

/// <summary>
/// A throwaway PostgreSQL cluster of this test alone (initdb into a temp directory, pg_ctl on a free port), so a
/// test can stop and start the database under a running server without touching the shared cluster others use.
/// PostgreSQL cannot bind port 0 and report the port, so a free port is picked and released first; another process
/// may take it in between, so a start that fails because the port is taken is retried on another one.
/// Runs the binaries as the postgres OS user when the test runs as root (CI), as the current user otherwise.
/// ENTOURAGE_PG_BIN overrides the binary directory (default: the newest /usr/lib/postgresql/*/bin).
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _dir;

    /// <summary>Starts on another port after this many "address already in use" failures in a row, then gives up.</summary>
    internal const int PortAttempts = 5;

    /// <summary>Fixed once <see cref="StartAsync"/> returns: restarts reuse it, as the server's connection string names it.</summary>
    public int Port { get; private set; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=entourage;Timeout=5;Command Timeout=30";

    private PrivatePostgres(string bin, string dir)
    {
        _bin = bin;
        _dir = dir;
    }

    public static Task<PrivatePostgres> StartAsync() => StartAsync(FreePort);

    /// <summary>Starts a cluster on the first port from <paramref name="pickPort"/> that it can bind.</summary>
    internal static async Task<PrivatePostgres> StartAsync(Func<int> pickPort)
    {
        var bin = Environment.GetEnvironmentVariable("ENTOURAGE_PG_BIN") is { Length: > 0 } b ? b
            : Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                    .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).FirstOrDefault()
                : null;
        if (bin is null) throw new InvalidOperationException("No PostgreSQL binaries found: install postgresql (apt-get install postgresql) or set ENTOURAGE_PG_BIN.");
        var dir = Directory.CreateTempSubdirectory("entourage-privatepg-").FullName;
        if (Environment.UserName == "root") await RunAsync("chown", ["-R", "postgres:postgres", dir]);
        var pg = new PrivatePostgres(bin, dir);
        try
        {
            await pg.AsPostgresAsync("initdb", ["-D", pg.Data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
            await pg.StartOnAFreePortAsync(pickPort);
        }
        catch (InvalidOperationException)
        {
            pg.DeleteDirectory();
            throw;
        }
        await using (var conn = new NpgsqlConnection($"Host=127.0.0.1;Port={pg.Port};Username=postgres;Database=postgres;Pooling=false"))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE DATABASE entourage", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return pg;
    }

    private string Data => Path.Combine(_dir, "data");

    private string Log => Path.Combine(_dir, "server.log");

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private async Task StartOnAFreePortAsync(Func<int> pickPort)
    {
        for (var attempt = 1; ; attempt++)
        {
            Port = pickPort();
            // pg_ctl appends to the log: only what this attempt wrote tells why it failed.
            var logFrom = File.Exists(Log) ? new FileInfo(Log).Length : 0;
            try
            {
                await StartServerAsync();
                return;
            }
            catch (InvalidOperationException e) when (PortTaken(logFrom))
            {
                if (attempt == PortAttempts)
                    throw new InvalidOperationException($"PostgreSQL found its port taken {PortAttempts} times in a row (last {Port}).", e);
            }
        }
    }

    /// <summary>Whether the postmaster's log since <paramref name="from"/> says it could not bind its port.</summary>
    private bool PortTaken(long from)
    {
        if (!File.Exists(Log)) return false;
        using var s = new FileStream(Log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        s.Seek(from, SeekOrigin.Begin);
        var text = new StreamReader(s).ReadToEnd();
        return text.Contains("Address already in use", StringComparison.Ordinal) || text.Contains("could not bind", StringComparison.Ordinal);
    }

    /// <summary>
    /// pg_ctl start, waiting until it accepts connections. Commits are synchronous: the tests stop this server with
    /// "immediate" (a crash) and then check that nothing the API acknowledged was lost, and an asynchronous commit
    /// acknowledged up to 3 × wal_writer_delay before the crash is lost by design. fsync stays off: the crash is the
    /// server process's, not the machine's, so WAL handed to the OS survives it.
    /// </summary>
    public Task StartServerAsync() => AsPostgresAsync("pg_ctl", ["-D", Data, "-l", Log, "-w", "-t", "60", "-o",
        $"-p {Port} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=on -c full_page_writes=off -c max_connections=200", "start"]);

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
        DeleteDirectory();
    }

    private void DeleteDirectory()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
