using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Entourage.Bench.Load;

/// <summary>
/// The fake engineers: the <c>command</c> adapter running a process whose whole turn is the real REST call an
/// agent makes when it finishes (POST /tasks/{ENTOURAGE_TASK_ID}/status done, with its turn token).
/// <c>curl</c> is /bin/sh + curl (a few ms per process); <c>fake</c> is tests/FakeAgent, a .NET process (about
/// as heavy to start as a Node CLI, which the real agents are).
/// </summary>
public static class AgentCommands
{
    private const string DoneCall =
        "exec curl -sS -f -o /dev/null -X POST -H \"Authorization: Bearer $ENTOURAGE_AGENT_TOKEN\" -H 'Content-Type: application/json' " +
        "-d '{\"status\":\"done\"}' \"$ENTOURAGE_URL/api/v1/tasks/$ENTOURAGE_TASK_ID/status\"";

    /// <summary>Each turn marks its task done and exits.</summary>
    public static JsonObject Done(string kind, string dir) => kind == "curl"
        ? Shell(DoneCall)
        : Fake(dir, "done.json", new JsonObject { ["steps"] = new JsonArray(DoneStep()) });

    /// <summary>
    /// First attempts block (so a node can be killed under them); later attempts mark the task done. The blocked
    /// processes outlive their SIGKILLed server: curl's write their pid to <paramref name="pidFile"/>, FakeAgent's wait
    /// for <paramref name="gate"/>; <see cref="Release"/> ends both.
    /// </summary>
    public static JsonObject BlockFirstAttempt(string kind, string dir, string pidFile, string gate) => kind == "curl"
        ? Shell($"if [ \"$ENTOURAGE_TURN_ATTEMPT\" = 1 ]; then echo $$ >> '{pidFile}'; exec sleep 300; fi; {DoneCall}")
        : Fake(dir, "block.json", new JsonObject
        {
            ["attempts"] = new JsonObject { ["1"] = new JsonArray(new JsonObject { ["do"] = "wait_file", ["path"] = gate }) },
            ["steps"] = new JsonArray(DoneStep()),
        });

    public static void Release(string pidFile, string gate)
    {
        File.WriteAllText(gate, "go");
        if (!File.Exists(pidFile)) return;
        foreach (var line in File.ReadAllLines(pidFile))
        {
            if (!int.TryParse(line.Trim(), out var pid)) continue;
            try
            {
                using var p = Process.GetProcessById(pid);
                if (p.ProcessName == "sleep") p.Kill();
            }
            catch (ArgumentException) { }
            catch (InvalidOperationException) { }
        }
    }

    /// <summary>
    /// The spawn floor: the same process shape (same executable, environment size, one HTTP call to the server —
    /// GET /health instead of the status change) launched <paramref name="n"/> times, <paramref name="parallel"/> at
    /// once, the way the dispatcher launches agents. Returns per-process wall times (ms) and the overall rate.
    /// </summary>
    public static async Task<(List<double> Ms, double PerSecond)> SpawnFloorAsync(string kind, string url, string dir, int n, int parallel)
    {
        var (file, args) = kind == "curl"
            ? ("/bin/sh", new[] { "-c", "exec curl -sS -f -o /dev/null \"$ENTOURAGE_URL/health\"" })
            : (BenchPaths.DotnetHost, new[] { BenchPaths.FakeAgentDll, "--script", WriteScript(dir, "health.json", new JsonObject
            {
                ["steps"] = new JsonArray(new JsonObject { ["do"] = "http", ["method"] = "GET", ["path"] = "/health" }),
            }) });
        var times = new List<double>(n);
        using var gate = new SemaphoreSlim(parallel);
        var total = Stopwatch.StartNew();
        var runs = Enumerable.Range(0, n).Select(async _ =>
        {
            await gate.WaitAsync();
            try
            {
                var sw = Stopwatch.StartNew();
                var psi = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
                foreach (var a in args) psi.ArgumentList.Add(a);
                psi.Environment.Clear();
                foreach (var k in new[] { "PATH", "HOME", "DOTNET_ROOT", "TMPDIR" })
                    if (Environment.GetEnvironmentVariable(k) is { Length: > 0 } v) psi.Environment[k] = v;
                psi.Environment["ENTOURAGE_URL"] = url;
                using var p = Process.Start(psi)!;
                p.StandardInput.Close();
                var o = p.StandardOutput.ReadToEndAsync();
                var e = p.StandardError.ReadToEndAsync();
                await p.WaitForExitAsync();
                await Task.WhenAll(o, e);
                if (p.ExitCode != 0) throw new InvalidOperationException($"spawn floor process exited {p.ExitCode}: {await e}");
                lock (times) times.Add(sw.Elapsed.TotalMilliseconds);
            }
            finally { gate.Release(); }
        }).ToList();
        await Task.WhenAll(runs);
        return (times, n / total.Elapsed.TotalSeconds);
    }

    private static JsonObject DoneStep() => new()
    {
        ["do"] = "http",
        ["method"] = "POST",
        ["path"] = "/api/v1/tasks/{task_id}/status",
        ["body"] = new JsonObject { ["status"] = "done" },
    };

    private static JsonObject Shell(string script) => new() { ["command"] = "/bin/sh", ["args"] = new JsonArray("-c", script) };

    private static JsonObject Fake(string dir, string name, JsonObject script) => new()
    {
        ["command"] = BenchPaths.DotnetHost,
        ["args"] = new JsonArray(BenchPaths.FakeAgentDll, "--script", WriteScript(dir, name, script)),
    };

    private static string WriteScript(string dir, string name, JsonObject script)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, script.ToJsonString());
        return path;
    }
}
