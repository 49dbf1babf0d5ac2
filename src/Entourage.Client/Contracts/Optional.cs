using System.Text.Json;
using System.Text.Json.Serialization;

namespace Entourage.Client.Contracts;

/// <summary>
/// A PATCH field whose explicit null means something (clear it) and differs from the field being absent (leave it):
/// a nullable property cannot tell the two apart. Absent, it is <c>default</c> (<see cref="IsSet"/> false) and is not
/// written; present, even as null, it is set.
/// </summary>
[JsonConverter(typeof(OptionalJsonConverterFactory))]
public readonly record struct Optional<T>
{
    public Optional(T value) => (Value, IsSet) = (value, true);

    public T Value { get; }

    public bool IsSet { get; }

    public static implicit operator Optional<T>(T value) => new(value);
}

/// <summary>Reads and writes <see cref="Optional{T}"/> as its value; a JSON null is read as a set null.</summary>
public sealed class OptionalJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(Optional<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(OptionalJsonConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;

    private sealed class OptionalJsonConverter<T> : JsonConverter<Optional<T>>
    {
        // A value type's converter is handed JSON nulls too; said here so that it does not depend on that default.
        public override bool HandleNull => true;

        public override Optional<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Null) return new(default!);
            try
            {
                // Through the serializer, so the options' number handling applies ("parent_id": "2" as for any id).
                return new(JsonSerializer.Deserialize<T>(ref reader, options)!);
            }
            catch (JsonException e)
            {
                // Said again without the nested call's own path ("$"): the outer read adds the field's path, and the
                // message names the value's type, as for a plain field of that type.
                throw new JsonException($"The JSON value could not be converted to {typeof(T)}.", e);
            }
        }

        public override void Write(Utf8JsonWriter writer, Optional<T> value, JsonSerializerOptions options) =>
            JsonSerializer.Serialize(writer, value.Value, options);
    }
}
