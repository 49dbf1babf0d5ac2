using Entourage.Bench.Load;

namespace Entourage.Tests.Faults;

/// <summary>
/// The real server build as a child process (the shared <see cref="ChildServer"/>) for tests that SIGKILL it at any
/// moment and start it again on the same store (SQLite data directory or PostgreSQL database): short leases and
/// polls so recovery happens within a test. Its output is workDir/server.log, kept for a failing run.
/// </summary>
public static class FaultServer
{
    /// <summary>Starts the server in <paramref name="workDir"/> (data in workDir/.entourage unless PostgreSQL) and returns once it has started.</summary>
    /// <param name="settings">Configuration keys that override the defaults here.</param>
    /// <param name="ownProcessGroup">See <see cref="ChildServer.StartAsync"/>: for <see cref="ChildServer.InterruptGroup"/>.</param>
    public static Task<ChildServer> StartAsync(string workDir, string? postgres, IDictionary<string, string>? settings = null, bool ownProcessGroup = false)
    {
        var all = new Dictionary<string, string>
        {
            ["Storage:DataDirectory"] = Path.Combine(workDir, ".entourage"),
            ["Dispatch:LeaseSeconds"] = "2",
            ["Dispatch:HeartbeatSeconds"] = "0.5",
            ["Dispatch:PollSeconds"] = "1",
            ["Merging:LeaseSeconds"] = "2",
            ["Merging:PollSeconds"] = "1",
        };
        if (postgres is not null) all["Storage:DatabaseUrl"] = postgres;
        if (settings is not null) foreach (var (k, v) in settings) all[k] = v;
        return ChildServer.StartAsync(workDir, all, "server.log", ownProcessGroup);
    }
}
