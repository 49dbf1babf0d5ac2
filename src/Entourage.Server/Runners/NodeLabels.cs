using System.Text.RegularExpressions;
using Entourage.Server.Hosting;

namespace Entourage.Server.Runners;

/// <summary>
/// Placement labels (issue #10). Agents and teams name the labels a node needs to run them (<c>runner_labels</c>);
/// nodes advertise theirs. Stored comma-joined, lower-case, sorted and distinct, so equal sets compare equal and
/// the claim can test "has all of them" cheaply. A team's labels apply to all its agents; an agent's add to them.
/// </summary>
public static partial class NodeLabels
{
    public const int MaxLabels = 16;
    public const string Rule = "Labels are 1–63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit (e.g. \"gpu\", \"eu-west\"); at most 16.";

    /// <summary>Validates a list from a request and returns its stored form (null for an empty list).</summary>
    public static string? Normalize(IReadOnlyList<string?>? labels, ValidationErrors errors, string field)
    {
        if (labels is null || labels.Count == 0) return null;
        if (labels.Count > MaxLabels) errors.Add(field, $"At most {MaxLabels} labels. " + Rule);
        var clean = new SortedSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < labels.Count; i++)
        {
            var l = labels[i]?.Trim().ToLowerInvariant();
            if (l is null || !Valid().IsMatch(l)) errors.Add($"{field}[{i}]", $"'{labels[i]}' is not a valid label. " + Rule);
            else clean.Add(l);
        }
        return clean.Count == 0 ? null : string.Join(',', clean);
    }

    /// <summary>Parses a command-line or configuration value ("gpu, linux"); throws with the rule when invalid.</summary>
    public static string? FromConfig(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var errors = new ValidationErrors();
        var stored = Normalize(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), errors, "labels");
        if (errors.Any) throw new ArgumentException($"Invalid node labels '{value}'. {Rule}");
        return stored;
    }

    public static IReadOnlyList<string> Parse(string? stored) =>
        string.IsNullOrEmpty(stored) ? [] : stored.Split(',', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The labels a node needs to run an agent: the team's and the agent's together.</summary>
    public static IReadOnlyList<string> Required(string? teamLabels, string? agentLabels) =>
        [.. Parse(teamLabels).Union(Parse(agentLabels)).Order(StringComparer.Ordinal)];

    /// <summary>True when a node with <paramref name="nodeLabels"/> may run work that requires <paramref name="required"/>.</summary>
    public static bool Satisfies(IReadOnlyCollection<string> nodeLabels, IReadOnlyList<string> required) =>
        required.All(nodeLabels.Contains);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Valid();
}
