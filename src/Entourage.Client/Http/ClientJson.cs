using System.Text.Json;
using System.Text.Json.Serialization;

namespace Entourage.Client.Http;

/// <summary>
/// The API's JSON as a client reads it: snake_case, enums as snake_case strings. Unlike the server, the client
/// ignores fields it does not know, so an older CLI keeps working against a newer server.
/// </summary>
public static class ClientJson
{
    public static readonly JsonSerializerOptions Options = Create(indented: false);

    /// <summary>For people reading <c>--json</c> output.</summary>
    public static readonly JsonSerializerOptions Indented = Create(indented: true);

    private static JsonSerializerOptions Create(bool indented)
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            NumberHandling = JsonNumberHandling.AllowReadingFromString,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            WriteIndented = indented,
        };
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        return o;
    }
}
