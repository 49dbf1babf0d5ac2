using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Entourage.Server.Hosting;

namespace Entourage.Server.Mcp;

/// <summary>
/// Tool arguments and results use the REST API's JSON (snake_case, enums as strings), so a model sees the same
/// shapes in both. Unknown fields inside object arguments are rejected, as over REST.
/// </summary>
public static class ToolJson
{
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        JsonDefaults.Apply(o);
        o.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        o.MakeReadOnly();
        return o;
    }
}
