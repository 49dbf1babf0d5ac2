using System.CommandLine;
using System.Text.Json.Nodes;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;

namespace Entourage.Cli.Commands.Reviews;

/// <summary>entourage review show &lt;task&gt; — the diff under review, its state and line comments.</summary>
public sealed class ReviewShowCommand : EntourageCommand
{
    private readonly Argument<string> _task = new("task") { Description = "Task id (in_review)." };

    public ReviewShowCommand(CliEnvironment env) : base("show", "Show a task's review: state, diff and comments.", env)
    {
        Arguments.Add(_task);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var review = await ctx.Client.GetReviewAsync(Resolve.TaskId(ctx.Get(_task)!), ct);
        if (ctx.Json) { ctx.WriteJson(review); return ExitCodes.Ok; }
        ctx.Out.MarkupLine($"Review of task [bold]#{Styles.Esc(review["task_id"]?.ToString())}[/]: [bold]{Styles.Esc(review["state"]?.ToString())}[/]" +
            (review["summary"] is { } s ? " — " + Styles.Esc(s.ToString()) : ""));
        if (review["diff"]?.ToString() is { Length: > 0 } diff)
            foreach (var line in diff.Split('\n'))
                ctx.Out.MarkupLine(line switch
                {
                    _ when line.StartsWith("+++", StringComparison.Ordinal) || line.StartsWith("---", StringComparison.Ordinal) => $"[bold]{Styles.Esc(line)}[/]",
                    _ when line.StartsWith('+') => $"[green]{Styles.Esc(line)}[/]",
                    _ when line.StartsWith('-') => $"[red]{Styles.Esc(line)}[/]",
                    _ when line.StartsWith("@@", StringComparison.Ordinal) => $"[cyan]{Styles.Esc(line)}[/]",
                    _ => Styles.Esc(line),
                });
        if (review["comments"] is JsonArray { Count: > 0 } comments)
        {
            ctx.Out.MarkupLine("[bold]Comments[/]");
            foreach (var c in comments.OfType<JsonObject>())
                ctx.Out.MarkupLine($"  {Styles.Esc(c["file_path"]?.ToString())}:{Styles.Esc(c["line"]?.ToString())} {Styles.Esc(c["body"]?.ToString())}");
        }
        return ExitCodes.Ok;
    }
}
