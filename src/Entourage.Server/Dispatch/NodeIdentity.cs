namespace Entourage.Server.Dispatch;

/// <summary>
/// This process's node id: owner of its claims and leases. Unique per start, so a restarted process never
/// mistakes its dead predecessor's leases for its own.
/// </summary>
public sealed class NodeIdentity
{
    public string Id { get; } = $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The build this node runs (informational version, else assembly version), shown by GET /nodes.</summary>
    public static string? Version { get; } =
        (typeof(NodeIdentity).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .FirstOrDefault() as System.Reflection.AssemblyInformationalVersionAttribute)?.InformationalVersion
        ?? typeof(NodeIdentity).Assembly.GetName().Version?.ToString();
}
