using Entourage.Server.Hosting;

namespace Entourage.Server.Dashboard.Data;

/// <summary>Outcome of a dashboard write: the value, or the same problem the REST API would have answered.</summary>
public sealed record ActionResult<T>(T? Value, ApiProblem? Problem)
{
    public bool Ok => Problem is null;

    /// <summary>Message for one form field (snake_case name as in the API), if the server rejected it.</summary>
    public string? ErrorFor(string field) =>
        Problem?.Errors is { } e && e.TryGetValue(field, out var m) ? string.Join(" ", m) : null;
}
