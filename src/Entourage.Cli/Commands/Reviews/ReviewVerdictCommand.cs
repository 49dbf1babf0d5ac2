using System.CommandLine;
using System.Globalization;
using Entourage.Cli.Infrastructure;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Commands.Reviews;

/// <summary>
/// entourage review approve|request-changes &lt;task&gt; [-m summary] [--comment file:line:text]… — one class for both
/// verdicts: they differ only in the decision sent.
/// </summary>
public sealed class ReviewVerdictCommand : EntourageCommand
{
    private readonly ReviewDecision _decision;
    private readonly Argument<string> _task = new("task") { Description = "Task id (in_review)." };
    private readonly Option<string?> _summary = new("--message", "-m") { Description = "Summary for the engineer." };
    private readonly Option<string[]> _comments = new("--comment", "-c") { Description = "A line comment as file:line:text (repeatable)." };

    private ReviewVerdictCommand(string name, ReviewDecision decision, string description, CliEnvironment env) : base(name, description, env)
    {
        _decision = decision;
        Arguments.Add(_task);
        Options.Add(_summary);
        Options.Add(_comments);
    }

    public static ReviewVerdictCommand Approve(CliEnvironment env) =>
        new("approve", ReviewDecision.Approve, "Approve a task's work; it joins the merge queue.", env);

    public static ReviewVerdictCommand RequestChanges(CliEnvironment env) =>
        new("request-changes", ReviewDecision.RequestChanges, "Send a task back to its engineer with line comments.", env);

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var comments = new List<ReviewCommentInput>();
        foreach (var c in ctx.Get(_comments) ?? [])
        {
            var parts = c.Split(':', 3);
            if (parts.Length < 3 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var line) || line < 1)
                throw CliException.Usage($"--comment '{c}' must be file:line:text with a line number from 1, e.g. src/api.cs:42:Handle the null case.");
            comments.Add(new ReviewCommentInput(parts[0], line, parts[2]));
        }
        if (_decision == ReviewDecision.RequestChanges && comments.Count == 0 && ctx.Get(_summary) is null)
            throw CliException.Usage("Say what to change: -m \"...\" and/or --comment file:line:text.");
        var id = Resolve.TaskId(ctx.Get(_task)!);
        var review = await ctx.Client.SubmitReviewAsync(id, new ReviewDecisionRequest(_decision, ctx.Get(_summary), comments, ctx.Env.GetEnv("USER")), ct);
        if (ctx.Json) { ctx.WriteJson(review); return ExitCodes.Ok; }
        ctx.Out.MarkupLine(_decision == ReviewDecision.Approve
            ? $"Approved task #{id}; it is queued to merge."
            : $"Requested changes on task #{id} ({comments.Count} comment(s)); its engineer gets them as a message.");
        return ExitCodes.Ok;
    }
}
