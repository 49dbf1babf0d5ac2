using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;

namespace Entourage.Cli.Commands.Reviews;

/// <summary>
/// entourage review approve|request-changes &lt;task&gt; [-m summary] [--comment file:line:text]… — one class for both
/// verdicts: they differ only in the decision sent.
/// </summary>
public sealed class ReviewVerdictCommand : EntourageCommand
{
    private readonly string _decision;
    private readonly Argument<string> _task = new("task") { Description = "Task id (in_review)." };
    private readonly Option<string?> _summary = new("--message", "-m") { Description = "Summary for the engineer." };
    private readonly Option<string[]> _comments = new("--comment", "-c") { Description = "A line comment as file:line:text (repeatable)." };

    private ReviewVerdictCommand(string name, string decision, string description, CliEnvironment env) : base(name, description, env)
    {
        _decision = decision;
        Arguments.Add(_task);
        Options.Add(_summary);
        Options.Add(_comments);
    }

    public static ReviewVerdictCommand Approve(CliEnvironment env) =>
        new("approve", "approve", "Approve a task's work; it joins the merge queue.", env);

    public static ReviewVerdictCommand RequestChanges(CliEnvironment env) =>
        new("request-changes", "request_changes", "Send a task back to its engineer with line comments.", env);

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var comments = new JsonArray();
        foreach (var c in ctx.Get(_comments) ?? [])
        {
            var parts = c.Split(':', 3);
            if (parts.Length < 3 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var line) || line < 1)
                throw CliException.Usage($"--comment '{c}' must look like src/api.cs:42:Handle the null case.");
            comments.Add(new JsonObject { ["file_path"] = parts[0], ["line"] = line, ["body"] = parts[2] });
        }
        if (_decision == "request_changes" && comments.Count == 0 && ctx.Get(_summary) is null)
            throw CliException.Usage("Say what to change: -m \"...\" and/or --comment file:line:text.");
        var verdict = new JsonObject { ["decision"] = _decision, ["summary"] = ctx.Get(_summary), ["comments"] = comments, ["reviewer"] = ctx.Env.GetEnv("USER") };
        var id = Resolve.TaskId(ctx.Get(_task)!);
        var result = await ctx.Client.SubmitReviewAsync(id, verdict, ct);
        if (ctx.Json) { ctx.WriteJson(result); return ExitCodes.Ok; }
        ctx.Out.MarkupLine(_decision == "approve"
            ? $"Approved task #{id}; it is queued to merge."
            : $"Requested changes on task #{id} ({comments.Count} comment(s)); its engineer gets them as a message.");
        return ExitCodes.Ok;
    }
}
