using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Entourage.Server.Hosting;

/// <summary>
/// Words a body that does not fit its request type. System.Text.Json names the .NET type it was building (often the
/// whole request record, "could not be converted to CreateTeamRequest"), which tells a client nothing; the path it
/// gives does name the field. So the field's own type is found by walking that path through the request type's JSON
/// contract, and the answer says what that field takes: a string, one of the enum's values, an object, a number in range.
/// </summary>
public static partial class JsonBodyProblem
{
    // The API's JSON rules with a resolver of their own, read-only: the shared options get theirs only when first used.
    private static readonly JsonSerializerOptions Contract = CreateContract();

    public static ProblemDetails Create(JsonException json, Type? bodyType)
    {
        if (json is RefusedJsonValueException refused) return Field(FieldOf(json.Path), refused.Fix);
        if (IsSyntaxError(json))
            return Problem(null, $"The body is not valid JSON: {Clean(json.Message)}{Where(json)}. Send one JSON object with Content-Type: application/json.");
        var field = FieldOf(json.Path);
        if (json.Message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
            return Field(field, "Unknown field. Remove it or check its spelling against the API (GET /openapi/v1.json).");
        var expected = bodyType is null ? null : SafeExpected(bodyType, json.Path);
        if (field is null)
            return Problem(null, expected is null
                ? $"The body is not valid JSON for this request: {Clean(json.Message)}."
                : $"The body must be {expected}, with the fields listed in GET /openapi/v1.json.");
        return Field(field, expected is null ? Clean(json.Message) + "." : $"Must be {expected}.");
    }

    /// <summary>What a value of this type looks like in the API's JSON, e.g. "one of: low, medium, high, critical".</summary>
    public static string Expected(Type type)
    {
        // A PATCH field that tells null from absent takes what its value takes.
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Optional<>)) return Expected(type.GetGenericArguments()[0]);
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum) return $"one of: {string.Join(", ", Enum.GetValues(type).Cast<Enum>().Select(EnumNames.ToSnake))} (a string)";
        if (type == typeof(string)) return "a string";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(Guid)) return "a uuid string, e.g. \"0196f2c4-7d1e-7c3a-9f5b-2a8e4d6c1b3f\"";
        if (type == typeof(DateTime) || type == typeof(DateTimeOffset)) return "an ISO-8601 UTC time string, e.g. \"2025-01-31T12:00:00Z\"";
        if (type == typeof(int)) return $"a whole number from {int.MinValue} to {int.MaxValue}";
        if (type == typeof(long)) return "a whole number (ids are positive whole numbers, e.g. 12)";
        if (type == typeof(decimal)) return "a number from -7.9e28 to 7.9e28";
        if (type == typeof(double) || type == typeof(float)) return "a number";
        if (type == typeof(JsonObject)) return "a JSON object, e.g. {\"description\": \"Backend specialist\"}";
        if (type == typeof(JsonArray)) return "a JSON array";
        var info = Contract.GetTypeInfo(type);
        return info.Kind switch
        {
            JsonTypeInfoKind.Enumerable when info.ElementType is { } e => $"an array whose items are each {Expected(e)}",
            JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary => "a JSON object",
            _ => "a JSON value of another type",
        };
    }

    /// <summary>The declared type at a JSON path ("$.tasks[1].priority") of <paramref name="root"/>, or null if unknown.</summary>
    public static Type? TargetType(Type root, string? path)
    {
        if (string.IsNullOrEmpty(path) || !path.StartsWith('$')) return null;
        var type = root;
        foreach (Match step in PathStep().Matches(path[1..]))
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            var info = Contract.GetTypeInfo(type);
            if (step.Groups["index"].Success)
            {
                if (info.Kind != JsonTypeInfoKind.Enumerable || info.ElementType is null) return null;
                type = info.ElementType;
                continue;
            }
            var name = step.Groups["name"].Success ? step.Groups["name"].Value : step.Groups["quoted"].Value.Replace("''", "'", StringComparison.Ordinal);
            if (info.Kind == JsonTypeInfoKind.Dictionary && info.ElementType is not null) type = info.ElementType;
            else if (info.Kind == JsonTypeInfoKind.Object && info.Properties.FirstOrDefault(p => p.Name == name) is { } property)
                type = property.AttributeProvider?.GetCustomAttributes(typeof(StringEnumAttribute), false).OfType<StringEnumAttribute>().FirstOrDefault()?.EnumType
                    ?? property.PropertyType;
            else return null;
        }
        return type;
    }

    // Wording an error must never fail the answer: a type the contract cannot describe just gets the plain message.
    private static string? SafeExpected(Type root, string? path)
    {
        try
        {
            return TargetType(root, path) is { } target ? Expected(target) : null;
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }

    private static JsonSerializerOptions CreateContract()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        JsonDefaults.Apply(o);
        o.TypeInfoResolver = new DefaultJsonTypeInfoResolver();
        o.MakeReadOnly();
        return o;
    }

    // "$.tasks[1].priority" → "tasks[1].priority"
    public static string? FieldOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    // The reader's own errors (a missing brace, a stray comma) are about the text, not about any one field.
    private static bool IsSyntaxError(JsonException json) => json.InnerException?.GetType().Name == "JsonReaderException";

    private static string Where(JsonException json) =>
        json.LineNumber is { } line && json.BytePositionInLine is { } b ? $" (line {line + 1}, byte {b + 1})" : "";

    private static ProblemDetails Field(string? field, string message) => field is null
        ? Problem(null, $"The body is invalid: {message}")
        : Problem(field, $"Field '{field}' is invalid: {message}", message);

    private static ProblemDetails Problem(string? field, string detail, string? message = null)
    {
        var pd = new ProblemDetails { Status = 400, Title = "Malformed request body", Detail = detail };
        if (field is not null && message is not null) pd.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [message] };
        return pd;
    }

    // System.Text.Json messages mention .NET type names and repeat the path; keep the useful part.
    public static string Clean(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        var text = (cut > 0 ? message[..cut] : message)
            .Replace("System.Collections.Generic.", "", StringComparison.Ordinal)
            .Replace("Entourage.Client.Contracts.", "", StringComparison.Ordinal)
            .Replace("System.", "", StringComparison.Ordinal);
        return text.EndsWith('.') ? text[..^1] : text;
    }

    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\[(?<index>\d+)\]|\['(?<quoted>(?:[^']|'')*)'\]")]
    private static partial Regex PathStep();
}
