using System.Text.Json;
using System.Text.Json.Serialization;

namespace Entourage.Server.Hosting;

/// <summary>The API's JSON: snake_case, enums as snake_case strings, unknown fields rejected.</summary>
public static class JsonDefaults
{
    public static void Apply(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.DictionaryKeyPolicy = null;
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        o.Converters.Add(new NulFreeStringConverter());
        // A typo'd field ("asignee_id") must fail loudly, not be ignored.
        o.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        // The spec writes ids as strings: "depends_on": ["{task_2_id}"].
        o.NumberHandling = JsonNumberHandling.AllowReadingFromString;
        o.MaxDepth = 32;
    }

    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Apply(o);
        return o;
    }
}
