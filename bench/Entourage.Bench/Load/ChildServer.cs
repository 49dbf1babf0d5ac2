using System.Diagnostics;
using System.Globalization;

namespace Entourage.Bench.Load;

/// <summary>
/// The real server (src/Entourage.Server's build of the same configuration) as a child process, so its memory and
/// CPU are its own and it can be SIGKILLed, stopped with SIGTERM or interrupted like a terminal's Ctrl+C. The one
/// copy shared by the load benchmark and the tests that kill servers (tests/Entourage.Tests/Faults/FaultServer.cs),
/// so a fix to how it starts cannot reach only one of them again.
/// </summary>
public sealed class ChildServer : IDisposable, IAsyncDisposable
{
    private readonly Process _process;
    private readonly ChildLog _log;

    private ChildServer(Process process, string url, ChildLog log, string logPath)
    {
        _process = process;
        Url = url;
        _log = log;
        LogPath = logPath;
        Http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string Url { get; }

    /// <summary>A client for <see cref="Url"/>.</summary>
    public HttpClient Http { get; }

    /// <summary>The server's standard output and error, kept in the work directory for a failing run.</summary>
    public string LogPath { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Time from process start to the host's "Application started" (listening, every hosted service started).</summary>
    public TimeSpan StartupTime { get; private set; }

    /// <summary>
    /// Starts the server in <paramref name="workDir"/> with <paramref name="settings"/> (configuration keys, passed
    /// as ENTOURAGE__ environment variables) and returns once it has started.
    /// </summary>
    /// <param name="ownProcessGroup">Start it in a session (and process group) of its own, as a shell's foreground job
    /// is, so <see cref="InterruptGroup"/> can send a terminal's Ctrl+C to it without reaching this process.</param>
    public static async Task<ChildServer> StartAsync(
        string workDir, IReadOnlyDictionary<string, string> settings, string logName = "server.log", bool ownProcessGroup = false)
    {
        var dll = BenchPaths.ServerDll;
        if (!File.Exists(dll)) throw new InvalidOperationException($"Server build missing: {dll}. Build the bench or the tests first (both build the server).");
        var psi = new ProcessStartInfo(ownProcessGroup ? "/usr/bin/env" : BenchPaths.DotnetHost)
        {
            WorkingDirectory = workDir, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        if (ownProcessGroup)
        {
            // A server started from a terminal has SIGINT at its default action. This process may have inherited it
            // ignored (a non-interactive shell ignores SIGINT in background jobs), and the child would inherit that
            // too, so Ctrl+C would not reach it: env resets it, setsid gives the session, both exec in place (same pid).
            foreach (var a in new[] { "--default-signal=INT", "/usr/bin/setsid", BenchPaths.DotnetHost }) psi.ArgumentList.Add(a);
        }
        psi.ArgumentList.Add(dll);
        // Port 0: the server binds a free port itself and logs it. Picking a port here and releasing it let another
        // process take it in between, and requests could then reach somebody else's server.
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add("http://127.0.0.1:0");
        psi.Environment["ENTOURAGE__Logging__LogLevel__Default"] = "Warning";
        // The two lines the start waits for (StartupLog) come from this category.
        psi.Environment["ENTOURAGE__Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        foreach (var (k, v) in settings) psi.Environment["ENTOURAGE__" + k.Replace(":", "__", StringComparison.Ordinal)] = v;

        var logPath = Path.Combine(workDir, logName);
        // Shared for reading and deleting: tests wait for text in it while the server runs.
        var log = new ChildLog(logPath);
        var startup = new StartupLog();
        var sw = Stopwatch.StartNew();
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            log.Append(e.Data);
            startup.Observe(e.Data);
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Append(e.Data); };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => startup.Fail(new InvalidOperationException($"The server exited with {process.ExitCode} during startup; see {logPath}."));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var url = await startup.WaitAsync(TimeSpan.FromSeconds(120));
            return new ChildServer(process, url, log, logPath) { StartupTime = sw.Elapsed };
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit();
            process.Dispose();
            log.Dispose();
            var message = $"{e.Message}\n{Tail(logPath)}";
            throw e is TimeoutException ? new TimeoutException(message, e) : new InvalidOperationException(message, e);
        }
    }

    /// <summary>SIGKILL: no shutdown hooks, no lease release, no final flush; returns the moment the signal was sent.</summary>
    public DateTime Kill()
    {
        var at = DateTime.UtcNow;
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
        return at;
    }

    /// <summary>SIGTERM: a clean stop (the soft shutdown of running turns), as systemd or docker stop sends it.</summary>
    public void Terminate() => Signal("TERM", Pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Ctrl+C in the server's terminal: SIGINT to its whole process group (started with ownProcessGroup), which
    /// holds every process the server started in that group too.
    /// </summary>
    public void InterruptGroup()
    {
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        var pgid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2], CultureInfo.InvariantCulture);
        if (pgid != Pid) throw new InvalidOperationException($"The server (pid {Pid}) does not lead a process group of its own (pgid {pgid}); start it with ownProcessGroup.");
        Signal("INT", "-" + pgid.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Waits for the process to end by itself (after <see cref="Terminate"/>) and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The server did not exit within {timeout.TotalSeconds} s: {Tail(LogPath)}");
        }
        return _process.ExitCode;
    }

    /// <summary>SIGTERM and wait for the soft stop; SIGKILL if it takes longer than 30 s.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        Terminate();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { Kill(); }
    }

    /// <summary>Peak resident set (VmHWM) in MiB, or NaN when the process is gone.</summary>
    public double PeakRssMiB() => ProcStat.StatusKiB(Pid, "VmHWM:") / 1024.0;

    public double RssMiB() => ProcStat.StatusKiB(Pid, "VmRSS:") / 1024.0;

    /// <summary>CPU seconds of the server itself and of the child processes it has reaped (the agents).</summary>
    public (double Own, double Children) CpuSeconds() => ProcStat.CpuSeconds(Pid);

    /// <summary>The last 4000 characters of a log, for an exception message.</summary>
    public static string Tail(string log)
    {
        try
        {
            using var s = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var text = new StreamReader(s).ReadToEnd();
            return text[Math.Max(0, text.Length - 4000)..];
        }
        catch (IOException) { return ""; }
    }

    // .NET's Process.Kill only sends SIGKILL; kill(1) sends the others, to a process group too.
    private static void Signal(string signal, string target)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-s", signal, "--", target }, UseShellExecute = false })!;
        kill.WaitForExit();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -s {signal} {target} failed with {kill.ExitCode}.");
    }

    /// <summary>Kills the server (SIGKILL, as a crash): tests that need a clean stop call <see cref="Terminate"/> first.</summary>
    public void Dispose()
    {
        Kill();
        Release();
    }

    /// <summary>Stops the server softly (<see cref="StopAsync"/>), as the benchmark ends a run.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Release();
    }

    private void Release()
    {
        Http.Dispose();
        _process.Dispose();
        _log.Dispose();
    }
}
