namespace Entourage.Server.Storage;

/// <summary>Where the data lives. Bound from configuration section "Storage" and ENTOURAGE_DATABASE_URL.</summary>
public sealed class StorageOptions
{
    /// <summary>PostgreSQL connection string (Npgsql format or postgres:// URL). Empty = embedded SQLite.</summary>
    public string? DatabaseUrl { get; set; }

    /// <summary>Folder of the SQLite file and its lock; default ".entourage" under the working directory.</summary>
    public string DataDirectory { get; set; } = ".entourage";

    /// <summary>How long to keep retrying migrations while the database comes up.</summary>
    public TimeSpan StartupRetryWindow { get; set; } = TimeSpan.FromSeconds(60);

    public bool UsePostgres => !string.IsNullOrWhiteSpace(DatabaseUrl);

    public string SqlitePath => Path.GetFullPath(Path.Combine(DataDirectory, "entourage.db"));
}
