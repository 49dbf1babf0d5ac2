namespace Entourage.Server.Dispatch;

/// <summary>
/// This process's node id: owner of its claims and leases. Unique per start, so a restarted process never
/// mistakes its dead predecessor's leases for its own. On PostgreSQL a process that holds its stable node name
/// (<see cref="NodeNameLock"/>) carries that name in its id (<c>name~pid-random</c>): a later process holding the
/// same name knows every other id with that name belonged to a process that is gone, and returns its turns at once.
/// </summary>
public sealed class NodeIdentity
{
    /// <summary>Between the stable name and the per-start part. Not allowed in node or runner names, nor in host names.</summary>
    public const char NameSeparator = '~';

    private string? _id;

    /// <summary>
    /// Fixed at first read: the claimer and the sweeper read it only after <see cref="NodeNameLock"/> started, and
    /// an id must never change once it owns a row.
    /// </summary>
    public string Id => _id ?? Interlocked.CompareExchange(ref _id, UniqueId(), null) ?? _id;

    /// <summary>The stable name this process holds the lock of, if any: ids starting with it were its predecessors'.</summary>
    public string? StableName { get; private set; }

    /// <summary>Takes the stable name as this process's; false when the id was already fixed without it.</summary>
    public bool TryAdopt(string name)
    {
        var id = $"{name}{NameSeparator}{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        if (Interlocked.CompareExchange(ref _id, id, null) is not null) return false;
        StableName = name;
        return true;
    }

    /// <summary>Whether <paramref name="nodeId"/> is an id some process took under the stable name <paramref name="name"/>.</summary>
    public static bool CarriesName(string nodeId, string name) =>
        nodeId.Length > name.Length && nodeId[name.Length] == NameSeparator && nodeId.StartsWith(name, StringComparison.Ordinal);

    /// <summary>Today's id for a process without a stable name: host, pid and a random part, never matching a name.</summary>
    private static string UniqueId() => $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The build this node runs (informational version, else assembly version), shown by GET /nodes.</summary>
    public static string? Version { get; } =
        (typeof(NodeIdentity).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .FirstOrDefault() as System.Reflection.AssemblyInformationalVersionAttribute)?.InformationalVersion
        ?? typeof(NodeIdentity).Assembly.GetName().Version?.ToString();
}
