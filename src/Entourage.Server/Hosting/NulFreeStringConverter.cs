using System.Text.Json;
using System.Text.Json.Serialization;

namespace Entourage.Server.Hosting;

/// <summary>
/// Reads API strings like the built-in converter but refuses U+0000: PostgreSQL text cannot store it, so a NUL in
/// a title or review body passed validation and then failed the write with a 500 (found by the REST fuzz). Failing
/// here makes it a 400 that names the field, on both stores alike.
/// </summary>
public sealed class NulFreeStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var s = reader.GetString();
        if (s is not null && s.Contains('\0', StringComparison.Ordinal))
            throw new RefusedJsonValueException("Text may not contain the NUL character (\\u0000); remove it.");
        return s;
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
