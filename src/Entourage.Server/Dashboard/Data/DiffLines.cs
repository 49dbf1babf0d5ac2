using System.Text.RegularExpressions;

namespace Entourage.Server.Dashboard.Data;

/// <summary>
/// A unified diff split into display lines, each knowing its file and its line number in the new version, so
/// review comments (file + line) can be shown under the line they talk about.
/// </summary>
public static partial class DiffLines
{
    public enum Kind { File, Hunk, Add, Del, Context }

    public sealed record Line(Kind Kind, string Text, string? File, int? NewLine, int? OldLine);

    public static IReadOnlyList<Line> Parse(string diff)
    {
        var result = new List<Line>();
        string? file = null;
        int oldNo = 0, newNo = 0;
        foreach (var raw in diff.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            if (raw.StartsWith("diff --git ", StringComparison.Ordinal))
            {
                var m = GitHeader().Match(raw);
                file = m.Success ? m.Groups[2].Value : raw[11..];
                result.Add(new Line(Kind.File, file, file, null, null));
            }
            else if (raw.StartsWith("+++ ", StringComparison.Ordinal))
            {
                var path = raw[4..].Trim();
                if (path != "/dev/null") file = path.StartsWith("b/", StringComparison.Ordinal) ? path[2..] : path;
                if (result.Count == 0 || result[^1].Kind != Kind.File) result.Add(new Line(Kind.File, file ?? path, file, null, null));
            }
            else if (raw.StartsWith("--- ", StringComparison.Ordinal) || raw.StartsWith("index ", StringComparison.Ordinal)
                     || raw.StartsWith("new file mode", StringComparison.Ordinal) || raw.StartsWith("deleted file mode", StringComparison.Ordinal))
            {
                // Header noise: the file line already says which file this is.
            }
            else if (raw.StartsWith("@@", StringComparison.Ordinal))
            {
                var m = HunkHeader().Match(raw);
                if (m.Success)
                {
                    oldNo = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                    newNo = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
                }
                result.Add(new Line(Kind.Hunk, raw, file, null, null));
            }
            else if (raw.StartsWith('+')) result.Add(new Line(Kind.Add, raw, file, newNo++, null));
            else if (raw.StartsWith('-')) result.Add(new Line(Kind.Del, raw, file, null, oldNo++));
            else if (raw.StartsWith(' ')) result.Add(new Line(Kind.Context, raw, file, newNo++, oldNo++));
            else if (raw.Length > 0 && file is null) result.Add(new Line(Kind.Context, raw, null, null, null));
        }
        return result;
    }

    [GeneratedRegex(@"^diff --git a/(.+) b/(.+)$")]
    private static partial Regex GitHeader();

    [GeneratedRegex(@"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")]
    private static partial Regex HunkHeader();
}
