using System.Text.Json;

namespace Entourage.Server.Hosting;

/// <summary>
/// A JSON value the API's own converters refuse (well-formed and of the right type, but not storable, such as text
/// with a NUL), carrying the fix to show the client as is. Readers that word their own 400s (team settings) match
/// this type instead of the message text, so rewording the message cannot turn the fix into "Wrong type".
/// System.Text.Json rethrows it unchanged after setting <see cref="JsonException.Path"/>, which names the field.
/// </summary>
public sealed class RefusedJsonValueException(string fix) : JsonException(fix)
{
    /// <summary>What is wrong with the value and how to fix it, e.g. "Text may not contain … ; remove it."</summary>
    public string Fix { get; } = fix;
}
