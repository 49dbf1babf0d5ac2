using System.ComponentModel;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using ModelContextProtocol.Server;

namespace Entourage.Server.Mcp.Tools;

/// <summary>
/// Hand-over for review. The decision side (approve, request changes with file/line comments, merge queue) is
/// issue #6; these tools create the review with the branch diff and read back its outcome.
/// </summary>
[McpServerToolType]
public sealed class ReviewTools
{
    public const int MaxSummary = 8000;

    public sealed record ReviewCommentView(string FilePath, int Line, string Body, string? Author, DateTime CreatedAt);

    public sealed record ReviewView(long Id, long TaskId, string State, string? Summary, string? Reviewer, DateTime RequestedAt,
        DateTime? DecidedAt, int DiffChars, IReadOnlyList<ReviewCommentView> Comments, string Next);

    [McpServerTool(Name = "request_review")]
    [Description("Hands your finished task over for review: commit everything first, then call this with a short summary of " +
                 "what changed and how you tested it. The task moves to in_review with your branch's diff; a reviewer " +
                 "approves (then it is merged) or requests changes, which reach you as a message. Then fix, commit, and call " +
                 "request_review again.")]
    public static async Task<ReviewView> RequestReview(McpCaller caller, AppDbContext db, TimeProvider clock,
        [Description("What changed, why, and how it was tested.")] string summary,
        [Description("The task (defaults to your one task in progress).")] long? task_id = null,
        CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(summary)) throw ApiProblem.Invalid("summary", "Required: say what changed and how you tested it.");
        if (summary.Length > MaxSummary) throw ApiProblem.Invalid("summary", $"At most {MaxSummary} characters.");
        var id = await caller.ResolveTaskAsync(db, task_id, ct);
        if (await db.Tasks.Where(t => t.Id == id).Select(t => t.Status).FirstAsync(ct) == TaskState.InReview)
            throw ApiProblem.Conflict($"Task {id} is already in review. Wait for the outcome (get_review_feedback) instead of asking again.");

        // The shared use case (issue #6): commits leftovers, records the diff, moves the task to in_review in one
        // transaction, and with require_review off queues the merge at once.
        var dto = await Features.Reviews.RequestReview.ExecuteAsync(db, id, summary, caller.Actor(), clock, ct);
        var review = await db.Reviews.AsNoTracking().FirstAsync(r => r.Id == dto.Id, ct);
        return View(review, []);
    }

    [McpServerTool(Name = "get_review_feedback", ReadOnly = true, Idempotent = true)]
    [Description("The latest review of a task: its state (pending, approved, changes_requested), the reviewer's file/line " +
                 "comments, and what to do next. Address every comment before requesting review again.")]
    public static async Task<ReviewView> GetReviewFeedback(McpCaller caller, AppDbContext db,
        [Description("The task (defaults to your one active task).")] long? task_id = null,
        CancellationToken ct = default)
    {
        var id = await caller.ResolveTaskAsync(db, task_id, ct);
        var review = await db.Reviews.AsNoTracking().Where(r => r.TaskId == id).OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct)
            ?? throw new ApiProblem(404, "No review", $"Task {id} has no review yet. Call request_review when the work is committed.");
        var comments = await db.ReviewComments.AsNoTracking().Where(c => c.ReviewId == review.Id).OrderBy(c => c.FilePath).ThenBy(c => c.Line).ToListAsync(ct);
        return View(review, comments);
    }

    private static ReviewView View(Review r, List<ReviewComment> comments) => new(
        r.Id, r.TaskId, EnumNames.ToSnake(r.State), r.Summary, r.Reviewer, r.RequestedAt, r.DecidedAt, r.Diff.Length,
        comments.Select(c => new ReviewCommentView(c.FilePath, c.Line, c.Body, c.Author, c.CreatedAt)).ToList(),
        r.State switch
        {
            ReviewState.Approved => "Approved: the merge queue lands it; nothing to do.",
            ReviewState.ChangesRequested => "Changes requested: address every comment, commit, then call request_review again.",
            _ => "Waiting for a reviewer. End your turn; the outcome reaches you as a message.",
        });
}
