using System.Security.Cryptography;
using System.Text;
using Entourage.Server.Storage;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Security;

/// <summary>
/// The server's admin key, held only as a SHA-256 hash in memory. From Security:AdminKey / ENTOURAGE_ADMIN_KEY,
/// else (when the server needs credentials) from {data directory}/admin-key, which the first such start creates
/// with a fresh random key readable by the server's user only. That file is how the first key reaches a user
/// of a remote server: read it on the server machine, sign in to the dashboard with it, and mint org keys.
/// </summary>
public sealed partial class AdminKey(IOptions<SecurityOptions> options, IOptions<StorageOptions> storage, IConfiguration config, ILogger<AdminKey> logger)
{
    public const string Prefix = "ent_admin_";
    public const string FileName = "admin-key";

    private byte[]? _hash;
    private readonly Lock _gate = new();

    /// <summary>Where a generated key is kept.</summary>
    public string FilePath => Path.GetFullPath(Path.Combine(storage.Value.DataDirectory, FileName));

    /// <summary>Whether some admin key is in force.</summary>
    public bool IsSet => Volatile.Read(ref _hash) is not null;

    public bool Matches(string secret)
    {
        var hash = Volatile.Read(ref _hash);
        return hash is not null && CryptographicOperations.FixedTimeEquals(hash, SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    }

    /// <summary>Loads the configured key; if none and <paramref name="generate"/>, loads or creates the key file.</summary>
    public void Initialize(bool generate)
    {
        lock (_gate)
        {
            var configured = options.Value.AdminKey is { Length: > 0 } k ? k : config["ENTOURAGE_ADMIN_KEY"];
            if (configured is { Length: > 0 })
            {
                if (configured.Length < SecurityOptions.MinAdminKeyLength)
                    throw new InvalidOperationException($"The admin key (Security:AdminKey or ENTOURAGE_ADMIN_KEY) must be at least {SecurityOptions.MinAdminKeyLength} characters; generate one with `openssl rand -hex 32`.");
                Set(configured);
                return;
            }
            if (!generate || _hash is not null) return;
            if (File.Exists(FilePath))
            {
                Set(File.ReadAllText(FilePath).Trim());
                LogUsingFile(logger, FilePath);
                return;
            }
            var key = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
            var file = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) file.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var w = new StreamWriter(FilePath, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), file)) w.Write(key + "\n");
            Set(key);
            LogGenerated(logger, FilePath);
        }
    }

    private void Set(string key) => Volatile.Write(ref _hash, SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    [LoggerMessage(Level = LogLevel.Warning, Message = "This server listens beyond loopback, so every request needs a key. A new admin key was written to {Path} (readable by this user only): sign in to the dashboard with it, or send it as 'Authorization: Bearer <key>' and mint org keys with POST /api/v1/orgs/{{org}}/api-keys.")]
    private static partial void LogGenerated(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Every request needs a key; the admin key is the one in {Path}.")]
    private static partial void LogUsingFile(ILogger logger, string path);
}
