using System.CommandLine.Parsing;
using Entourage.Cli.Rendering;

namespace Entourage.Cli.Infrastructure;

/// <summary>
/// Parses an enum option by the names the API and docs use (snake_case, lower-case). System.CommandLine's own
/// parser would accept "Engineer" and, on a typo, print the .NET type and the C# member names.
/// </summary>
public static class EnumOption
{
    public static T? Parse<T>(ArgumentResult result) where T : struct, Enum
    {
        var text = result.Tokens.Count == 0 ? "" : result.Tokens[^1].Value;
        foreach (var value in Enum.GetValues<T>())
            if (string.Equals(value.Snake(), text, StringComparison.OrdinalIgnoreCase)) return value;
        var name = result.Parent is OptionResult o ? o.Option.Name : "this option";
        result.AddError($"'{text}' is not a valid value for {name}. Use one of: {Allowed<T>()}.");
        return null;
    }

    public static string Allowed<T>() where T : struct, Enum => string.Join(", ", Enum.GetValues<T>().Select(v => v.Snake()));
}
