using System.Security.Cryptography;
using System.Text;

namespace Entourage.Server.Features.Agents;

/// <summary>Agent bearer tokens: random, shown once, stored as SHA-256 only.</summary>
public static class AgentTokens
{
    public const string Prefix = "ent_agent_";

    public static (string Token, string Hash, string DisplayPrefix) Mint()
    {
        var token = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        return (token, Hash(token), token[..(Prefix.Length + 6)]);
    }

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
