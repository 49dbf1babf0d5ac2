using System.CommandLine.Parsing;
using System.Globalization;

namespace Entourage.Cli.Commands.Tasks;

/// <summary>Parses task ids given as "2 3", "2,3" or "#2" into a list, with a usage error naming a bad one.</summary>
internal static class TaskIdList
{
    public static long[] Parse(ArgumentResult result)
    {
        var ids = new List<long>();
        foreach (var token in result.Tokens)
            foreach (var part in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (long.TryParse(part.TrimStart('#'), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0) ids.Add(id);
                else result.AddError($"'{part}' is not a task id. Task ids are positive integers, e.g. 12.");
            }
        return [.. ids];
    }
}
