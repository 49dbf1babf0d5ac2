using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Entourage.Bench.Load;

/// <summary>
/// The real server (src/Entourage.Server's build of the same configuration) as a child process, so its memory
/// and CPU are its own and it can be SIGKILLed. Peak memory is the kernel's high-water mark of its resident set
/// (/proc/PID/status VmHWM); CPU is its user + system time, and that of the agent processes it reaped.
/// </summary>
public sealed class ChildServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ChildServer(Process process, string url, StreamWriter log)
    {
        _process = process;
        Url = url;
        _log = log;
    }

    public string Url { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Time from process start to the first healthy /health answer.</summary>
    public TimeSpan StartupTime { get; private set; }

    public static async Task<ChildServer> StartAsync(IReadOnlyDictionary<string, string> settings, string workDir, string logName)
    {
        var dll = BenchPaths.ServerDll;
        if (!File.Exists(dll)) throw new InvalidOperationException($"Server build missing: {dll}. Build bench/Entourage.Bench first (it builds the server).");
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0)) { l.Start(); port = ((IPEndPoint)l.LocalEndpoint).Port; l.Stop(); }
        var url = $"http://127.0.0.1:{port}";
        var psi = new ProcessStartInfo(BenchPaths.DotnetHost) { WorkingDirectory = workDir, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add(url);
        psi.Environment["ENTOURAGE__Logging__LogLevel__Default"] = "Warning";
        foreach (var (k, v) in settings) psi.Environment["ENTOURAGE__" + k.Replace(":", "__", StringComparison.Ordinal)] = v;
        var log = new StreamWriter(Path.Combine(workDir, logName)) { AutoFlush = true };
        var sw = Stopwatch.StartNew();
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ChildServer(process, url, log);
        using var probe = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"The server exited with {process.ExitCode} during startup; see {Path.Combine(workDir, logName)}.");
            try
            {
                if ((await probe.GetAsync("/health")).IsSuccessStatusCode) break;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The server did not answer /health within 120 s; see {logName}.");
            await Task.Delay(50);
        }
        server.StartupTime = sw.Elapsed;
        return server;
    }

    /// <summary>Peak resident set (VmHWM) in MiB, or NaN when the process is gone.</summary>
    public double PeakRssMiB() => StatusKiB("VmHWM:") / 1024.0;

    public double RssMiB() => StatusKiB("VmRSS:") / 1024.0;

    /// <summary>CPU seconds of the server itself and of the child processes it has reaped (the agents).</summary>
    public (double Own, double Children) CpuSeconds()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{Pid}/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After the ")": field 3 is state, so utime (14) is f[11], stime f[12], cutime f[13], cstime f[14].
            double T(int i) => long.Parse(f[i], CultureInfo.InvariantCulture) / 100.0;
            return (T(11) + T(12), T(13) + T(14));
        }
        catch (IOException) { return (double.NaN, double.NaN); }
    }

    private double StatusKiB(string key)
    {
        try
        {
            var line = File.ReadLines($"/proc/{Pid}/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
            return line is null ? double.NaN : double.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException) { return double.NaN; }
    }

    /// <summary>SIGKILL: no shutdown hooks, no lease release; returns the moment the signal was sent.</summary>
    public DateTime Kill()
    {
        var at = DateTime.UtcNow;
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
        return at;
    }

    /// <summary>SIGTERM and wait for the soft stop; SIGKILL if it takes longer than 30 s.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        // SIGTERM through kill(1): .NET's Process.Kill only sends SIGKILL.
        using (var term = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false }))
            term?.WaitForExit();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { Kill(); }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
        lock (_log) _log.Dispose();
    }
}
