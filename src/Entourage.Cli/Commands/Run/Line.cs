using System.Text.Json;
using System.Text.Json.Nodes;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;
using Entourage.Client.Http;

namespace Entourage.Cli.Commands.Run;

/// <summary>The line-per-change output of `entourage run` when there is no terminal to redraw (logs, CI, --json).</summary>
internal static class Line
{
    public static string Json(string evt, TaskDto task) =>
        new JsonObject { ["event"] = evt, ["task"] = JsonSerializer.SerializeToNode(task, ClientJson.Options) }.ToJsonString();

    public static IEnumerable<string> Changes(FeatureSnapshot? before, FeatureSnapshot after, bool json)
    {
        var old = before?.Plan.ToDictionary(t => t.Id) ?? [];
        if (before is null || before.Feature.Status != after.Feature.Status)
            yield return json ? Json("feature", after.Feature) : Text(after.Feature, before?.Feature, "feature ");
        foreach (var t in after.Plan)
        {
            old.TryGetValue(t.Id, out var prior);
            if (prior is null) yield return json ? Json("task_added", t) : "+ " + Text(t, null, "");
            else if (prior.Status != t.Status || prior.AssigneeId != t.AssigneeId) yield return json ? Json("task_changed", t) : Text(t, prior, "");
        }
    }

    private static string Text(TaskDto t, TaskDto? prior, string prefix)
    {
        var state = prior is null || prior.Status == t.Status ? t.Status.Snake() : $"{prior.Status.Snake()} -> {t.Status.Snake()}";
        var who = t.AssigneeName is null ? "" : $" [{t.AssigneeName}]";
        var deps = t.DependsOn.Count == 0 ? "" : " after " + TaskViews.Ids(t.DependsOn);
        return $"{prefix}#{t.Id} {t.Title}: {state}{who}{deps}";
    }
}
