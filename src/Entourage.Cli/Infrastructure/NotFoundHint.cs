namespace Entourage.Cli.Infrastructure;

/// <summary>
/// The server's 404s end with "List them with GET to find a valid id.", advice for API callers; a CLI user is
/// better served by the verb that lists them. Only resources with a plain list verb are mapped; others keep the text.
/// </summary>
public static class NotFoundHint
{
    private const string ApiAdvice = "List them with GET to find a valid id.";

    private static readonly Dictionary<string, string> ListVerbs = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Org not found"] = "entourage org list",
        ["Team not found"] = "entourage team list",
        ["Agent not found"] = "entourage agent list --team <team>",
        ["Task not found"] = "entourage task list --team <team>",
    };

    public static string? Rewrite(string? title, string? detail) =>
        detail is not null && title is not null && detail.EndsWith(ApiAdvice, StringComparison.Ordinal) && ListVerbs.TryGetValue(title, out var verb)
            ? detail[..^ApiAdvice.Length] + $"List them with `{verb}` to find a valid id."
            : detail;
}
