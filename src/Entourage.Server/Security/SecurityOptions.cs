namespace Entourage.Server.Security;

/// <summary>Configuration section "Security" (also ENTOURAGE__Security__…; the admin key also as ENTOURAGE_ADMIN_KEY).</summary>
public sealed class SecurityOptions
{
    /// <summary>
    /// Require credentials on every request. Unset: required exactly when the server listens on a non-loopback
    /// address. Set true to require keys on loopback too (a shared machine); false is ignored off-loopback.
    /// </summary>
    public bool? RequireApiKey { get; set; }

    /// <summary>
    /// The server's admin key (full access to every org, the dashboard, creating orgs and minting org keys). Unset
    /// off-loopback: generated once and kept in {data directory}/admin-key, readable by the server's user only.
    /// </summary>
    public string? AdminKey { get; set; }

    /// <summary>Origins (scheme://host[:port]) allowed to call the server besides its own, e.g. a proxy's public URL.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    public const int MinAdminKeyLength = 32;
}
