namespace Entourage.Server.Hosting;

/// <summary>
/// A client error raised from domain code (REST handlers and MCP tools share it). The REST layer renders it as
/// RFC 9457 problem details; MCP tools turn it into a tool error. <see cref="Detail"/> must say what to do next.
/// </summary>
public sealed class ApiProblem(int status, string title, string detail, IReadOnlyDictionary<string, string[]>? errors = null, IReadOnlyDictionary<string, object?>? extensions = null)
    : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public string Detail { get; } = detail;

    /// <summary>Field (JSON path like "tasks[2].assignee_id") → what is wrong with it.</summary>
    public IReadOnlyDictionary<string, string[]>? Errors { get; } = errors;
    public IReadOnlyDictionary<string, object?>? Extensions { get; } = extensions;

    public static ApiProblem NotFound(string what, object id) =>
        new(404, $"{Capitalize(what)} not found", $"No {what} with id '{id}'. List them with GET to find a valid id.");

    public static ApiProblem Conflict(string detail, IReadOnlyDictionary<string, object?>? extensions = null) =>
        new(409, "Conflict", detail, extensions: extensions);

    public static ApiProblem BadRequest(string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        new(400, "Bad request", detail, errors);

    /// <summary>422: the request was well-formed JSON but its content is invalid; every bad field is listed.</summary>
    public static ApiProblem Validation(IReadOnlyDictionary<string, string[]> errors, string? detail = null) =>
        new(422, "Validation failed", detail ?? Summarize(errors), errors);

    /// <summary>One field wrong: "field: message".</summary>
    public static ApiProblem Invalid(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    private static string Summarize(IReadOnlyDictionary<string, string[]> errors) =>
        string.Join(" ", errors.Select(kv => $"{kv.Key}: {string.Join(" ", kv.Value)}"));

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}

/// <summary>Collects every validation error of a request before failing, so one 422 lists them all.</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(message);
    }

    public void ThrowIfAny(string? detail = null)
    {
        if (Any) throw ApiProblem.Validation(_errors.ToDictionary(k => k.Key, v => v.Value.ToArray()), detail);
    }
}
