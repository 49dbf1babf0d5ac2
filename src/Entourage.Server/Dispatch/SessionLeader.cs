using Entourage.Server.Agents;

namespace Entourage.Server.Dispatch;

/// <summary>
/// Agent processes run in a session of their own (<c>setsid PROGRAM ARGS…</c>, which becomes PROGRAM in place: same
/// pid, same process tree). Ctrl+C in the terminal running the server sends SIGINT to its whole foreground process
/// group, and a service manager may signal the server's group too: without this the agents died with the server's
/// signal, so the turns the soft shutdown should let finish failed at once instead. The server alone decides when an
/// agent stops (its drain, a cancel, a kill of the whole tree). Where <c>setsid</c> is missing the agent is started
/// directly, as before.
/// </summary>
public static class SessionLeader
{
    public static string? Path { get; } = OperatingSystem.IsLinux() ? AdapterCatalog.Resolve("setsid") : null;

    /// <summary>
    /// setsid's arguments before the agent's own. --wait: should setsid ever have to fork (it does when started as a
    /// process group leader), it waits for the agent and passes on its exit code, so the server still follows the
    /// agent's whole life and kills it with the tree.
    /// </summary>
    public static IEnumerable<string> Arguments(string program) => ["--wait", program];
}
