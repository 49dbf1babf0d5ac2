using System.Collections.Concurrent;
using Entourage.Server.Agents;

namespace Entourage.Server.Runners.Http;

/// <summary>
/// Agent executables an HTTP runner claimed a turn for and found it does not have. The server cannot look at the
/// runner's PATH, so the runner learns them one turn at a time (that turn is released, not failed) and sends the
/// list with every claim, so the server gives such turns to nodes that can run them. Each claim re-checks the list:
/// an executable installed since is runnable again without a restart.
/// </summary>
public sealed class MissingExecutables
{
    private readonly ConcurrentDictionary<string, byte> _missing = new(StringComparer.Ordinal);

    public void Add(string executable) => _missing.TryAdd(executable, 0);

    /// <summary>The executables still missing (found ones are forgotten), or null when there are none.</summary>
    public List<string?>? Current()
    {
        foreach (var exe in _missing.Keys)
            if (AdapterCatalog.Resolve(exe) is not null) _missing.TryRemove(exe, out _);
        return _missing.IsEmpty ? null : [.. _missing.Keys.Take(Features.RunnerProtocol.ClaimForRunner.MaxMissingExecutables)];
    }
}
