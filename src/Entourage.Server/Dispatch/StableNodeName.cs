using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Entourage.Server.Storage;
using Npgsql;

namespace Entourage.Server.Dispatch;

/// <summary>
/// The name a server or database runner keeps across restarts (<c>Dispatch:NodeName</c>). By default the host name
/// plus a short hash of the role, the data directory and the database (host, port, name): the same process
/// restarted from the same place gets the same name, two servers on one host with different data directories do
/// not. Never the password: the name is shown by GET /nodes.
/// </summary>
public static partial class StableNodeName
{
    public const string Rule = "1–63 of a-z, A-Z, 0-9, '.', '_' or '-', starting with a letter or digit";

    public static bool IsValid(string name) => NameRule().IsMatch(name);

    public static string Of(DispatchOptions dispatch, StorageOptions storage)
    {
        if (dispatch.NodeName?.Trim() is { Length: > 0 } configured) return configured;
        var database = "";
        if (storage.DatabaseUrl is { Length: > 0 } url)
        {
            var b = new NpgsqlConnectionStringBuilder(PostgresConnectionString.Normalize(url));
            database = $"{b.Host}:{b.Port}/{b.Database}";
        }
        var source = $"{dispatch.Role}\n{Path.GetFullPath(storage.DataDirectory)}\n{database}";
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source)))[..8];
        var host = HostPart().Replace(Environment.MachineName.ToLowerInvariant(), "-").Trim('-', '.', '_');
        if (host.Length == 0) host = "node";
        return $"{host[..Math.Min(host.Length, 40)]}-{hash}";
    }

    /// <summary>The advisory lock key of a name: the first 8 bytes of its SHA-256, under a prefix of ours.</summary>
    public static long LockKey(string name) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("entourage-node-name\n" + name)), 0);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex NameRule();

    [GeneratedRegex("[^a-z0-9._-]+")]
    private static partial Regex HostPart();
}
