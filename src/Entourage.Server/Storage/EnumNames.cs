using System.Collections.Concurrent;
using System.Text.Json;

namespace Entourage.Server.Storage;

/// <summary>Enum ↔ snake_case text, cached, shared by the store and error messages.</summary>
public static class EnumNames
{
    private static readonly ConcurrentDictionary<Enum, string> ToText = new();

    public static string ToSnake<T>(T value) where T : struct, Enum => ToSnake((Enum)value);

    /// <summary>The same, for an enum whose type is known only at run time (a raw command's parameter).</summary>
    public static string ToSnake(Enum value) =>
        ToText.GetOrAdd(value, v => JsonNamingPolicy.SnakeCaseLower.ConvertName(v.ToString()));

    public static T Parse<T>(string text) where T : struct, Enum =>
        TryParse<T>(text, out var v) ? v : throw new FormatException($"'{text}' is not a {typeof(T).Name}.");

    public static bool TryParse<T>(string? text, out T value) where T : struct, Enum
    {
        foreach (var v in Enum.GetValues<T>())
        {
            if (string.Equals(ToSnake(v), text, StringComparison.OrdinalIgnoreCase))
            {
                value = v;
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>"low, medium, high, critical" — for error messages that say what is allowed.</summary>
    public static string Allowed<T>() where T : struct, Enum => string.Join(", ", Enum.GetValues<T>().Select(v => ToSnake(v)));
}
