using System.Diagnostics;
using Entourage.Tests.Dispatch;
using Entourage.Tests.Infrastructure;

namespace Entourage.Tests.Faults;

/// <summary>
/// The real server build (src/Entourage.Server) as a child process on a free port, so a test can SIGKILL it at any
/// moment and start it again on the same store (SQLite data directory or PostgreSQL database). Its output goes to
/// a log file in the work directory, kept for a failing run.
/// </summary>
public sealed class ChildServer : IDisposable
{
    private readonly Process _process;

    public string Url { get; }
    public HttpClient Http { get; }

    /// <summary>The server's output (workDir/server.log).</summary>
    public string LogPath { get; }

    public int Pid => _process.Id;

    private ChildServer(Process process, string url, string logPath)
    {
        _process = process;
        Url = url;
        LogPath = logPath;
        Http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
    }

    public static string ServerDll => Path.Combine(DispatchHarness.RepoRoot, "src", "Entourage.Server", "bin",
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name, "net10.0", "Entourage.Server.dll");

    /// <summary>Starts the server in <paramref name="workDir"/> (data in workDir/.entourage unless PostgreSQL) and waits for /health.</summary>
    /// <param name="ownProcessGroup">Start it in a session (and process group) of its own, as a shell's foreground job
    /// is, so <see cref="InterruptGroup"/> can send a terminal's Ctrl+C to it without reaching the test run.</param>
    public static async Task<ChildServer> StartAsync(string workDir, string? postgres, IDictionary<string, string>? settings = null, bool ownProcessGroup = false)
    {
        File.Exists(ServerDll).ShouldBeTrue($"server build missing: {ServerDll}");
        // Port 0: the server binds a free port itself and logs it. Picking a port here and releasing it let
        // another process take it in between, and /health could then answer from somebody else's server.
        const string anyPort = "http://127.0.0.1:0";
        var psi = new ProcessStartInfo(ownProcessGroup ? "/usr/bin/setsid" : DispatchHarness.DotnetHost) { WorkingDirectory = workDir, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (ownProcessGroup) psi.ArgumentList.Add(DispatchHarness.DotnetHost);
        psi.ArgumentList.Add(ServerDll);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add(anyPort);
        psi.Environment["ENTOURAGE__Storage__DataDirectory"] = Path.Combine(workDir, ".entourage");
        psi.Environment["ENTOURAGE__Dispatch__LeaseSeconds"] = "2";
        psi.Environment["ENTOURAGE__Dispatch__HeartbeatSeconds"] = "0.5";
        psi.Environment["ENTOURAGE__Dispatch__PollSeconds"] = "1";
        psi.Environment["ENTOURAGE__Merging__LeaseSeconds"] = "2";
        psi.Environment["ENTOURAGE__Merging__PollSeconds"] = "1";
        psi.Environment["ENTOURAGE__Logging__LogLevel__Default"] = "Warning";
        psi.Environment["ENTOURAGE__Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        if (postgres is not null) psi.Environment["ENTOURAGE__Storage__DatabaseUrl"] = postgres;
        if (settings is not null) foreach (var (k, v) in settings) psi.Environment["ENTOURAGE__" + k.Replace(":", "__", StringComparison.Ordinal)] = v;
        var process = Process.Start(psi)!;
        var log = Path.Combine(workDir, "server.log");
        var gate = new object();
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        const string marker = "Now listening on: ";
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.IndexOf(marker, StringComparison.Ordinal) is var at and >= 0)
                listening.TrySetResult(line[(at + marker.Length)..].Trim());
            lock (gate) File.AppendAllText(log, e.Data + "\n");
        };
        process.ErrorDataReceived += (_, e) => { lock (gate) File.AppendAllText(log, e.Data + "\n"); };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"The server exited with {process.ExitCode}: {Tail(log)}"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        string url;
        try
        {
            url = await listening.Task.WaitAsync(TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The server did not start listening within 120 s: {Tail(log)}");
        }
        var server = new ChildServer(process, url, log);
        using var probe = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"The server exited with {process.ExitCode}: {Tail(log)}");
            try
            {
                if ((await probe.GetAsync("/health")).IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (DateTime.UtcNow > deadline) { server.Dispose(); throw new TimeoutException("The server did not start within 120 s."); }
            await Task.Delay(100);
        }
    }

    private static string Tail(string log)
    {
        if (!File.Exists(log)) return "";
        var text = File.ReadAllText(log);
        return text[Math.Max(0, text.Length - 4000)..];
    }

    /// <summary>SIGKILL: no shutdown hooks, no lease release, no final flush.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    /// <summary>SIGTERM: a clean stop (the soft shutdown of running turns), as systemd or docker stop sends it.</summary>
    public void Terminate() => Infrastructure.ProcessExit.Signal(_process.Id, Infrastructure.ProcessExit.SigTerm);

    /// <summary>
    /// Ctrl+C in the server's terminal: SIGINT to its whole process group (started with ownProcessGroup), which
    /// holds every process the server started in that group too.
    /// </summary>
    public void InterruptGroup()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var pgid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
        pgid.ShouldBe(_process.Id, "the server leads a process group of its own (started with ownProcessGroup)");
        Infrastructure.ProcessExit.Signal(-pgid, Infrastructure.ProcessExit.SigInt);
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

    public void Dispose()
    {
        Kill();
        Http.Dispose();
        _process.Dispose();
    }
}
