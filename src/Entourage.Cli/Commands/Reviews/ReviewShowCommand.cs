using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Commands.Reviews;

/// <summary>entourage review show &lt;task&gt; — the review's state and comments, and the branch diff (colored).</summary>
public sealed class ReviewShowCommand : EntourageCommand
{
    private readonly Argument<string> _task = new("task") { Description = "Task id." };
    private readonly Option<bool> _stat = new("--stat") { Description = "Files and line counts only, not the full diff." };

    public ReviewShowCommand(CliEnvironment env) : base("show", "Show a task's review: state, comments and the diff.", env)
    {
        Arguments.Add(_task);
        Options.Add(_stat);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var id = Resolve.TaskId(ctx.Get(_task)!);
        // The latest round; none yet when the engineer has not asked for review (the diff is still worth showing).
        var review = (await ctx.Client.ListReviewsAsync(id, ct)).OrderBy(r => r.RequestedAt).ThenBy(r => r.Id).LastOrDefault();
        var diff = await ctx.Client.GetTaskDiffAsync(id, ct);
        if (ctx.Json) { ctx.WriteJson(new { review, diff }); return ExitCodes.Ok; }

        ctx.Out.MarkupLine(review is null
            ? $"Task [bold]#{id}[/]: no review requested yet."
            : $"Review of task [bold]#{id}[/]: [bold]{review.State.Snake()}[/]{(review.Reviewer is null ? "" : " by " + Styles.Esc(review.Reviewer))}" +
              (review.Merge is { } m ? $"  [dim]merge: {m.State.Snake()}{(m.Error is null ? "" : " — " + Styles.Esc(m.Error))}[/]" : ""));
        if (review?.Summary is { Length: > 0 } summary) ctx.Out.MarkupLine($"[dim]summary:[/] {Styles.Esc(summary)}");
        ctx.Out.MarkupLine($"{Styles.Esc(diff.Branch)} → {Styles.Esc(diff.BaseBranch)}: {diff.Files.Count} file(s), [green]+{diff.Additions}[/] [red]-{diff.Deletions}[/]");
        if (ctx.Get(_stat))
            foreach (var f in diff.Files) ctx.Out.MarkupLine($"  {Styles.Esc(f.Path)} [green]+{f.Additions}[/] [red]-{f.Deletions}[/]");
        else
            foreach (var line in diff.Unified.Split('\n')) ctx.Out.MarkupLine(Colour(line));
        if (review?.Comments is { Count: > 0 } comments)
        {
            ctx.Out.MarkupLine("[bold]Comments[/]");
            foreach (var c in comments)
                ctx.Out.MarkupLine($"  {Styles.Esc(c.FilePath)}:{c.Line} [dim]{Styles.Esc(c.Author ?? "")}[/] {Styles.Esc(c.Body)}");
        }
        return ExitCodes.Ok;
    }

    private static string Colour(string line) => line switch
    {
        _ when line.StartsWith("+++", StringComparison.Ordinal) || line.StartsWith("---", StringComparison.Ordinal) => $"[bold]{Styles.Esc(line)}[/]",
        _ when line.StartsWith('+') => $"[green]{Styles.Esc(line)}[/]",
        _ when line.StartsWith('-') => $"[red]{Styles.Esc(line)}[/]",
        _ when line.StartsWith("@@", StringComparison.Ordinal) => $"[cyan]{Styles.Esc(line)}[/]",
        _ => Styles.Esc(line),
    };
}
