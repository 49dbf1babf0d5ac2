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
        var task = await db.Tasks.AsNoTracking().FirstAsync(t => t.Id == id, ct);
        if (task.Status == TaskState.InReview)
            throw ApiProblem.Conflict($"Task {id} is already in review. Wait for the outcome (get_review_feedback) instead of asking again.");

        var diff = await ReadDiffAsync(caller.Team, task, ct);
        // The transition first: it refuses (with the allowed states) a task that is not in progress.
        await ChangeTaskStatus.ExecuteAsync(db, id, TaskState.InReview, caller.Actor(), summary, clock, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var review = new Review
        {
            TaskId = id,
            TeamId = caller.TeamId,
            State = ReviewState.Pending,
            Diff = diff.Unified,
            BaseSha = diff.BaseSha,
            HeadSha = diff.HeadSha,
            Summary = summary.Trim(),
            RequestedAt = now,
        };
        db.Reviews.Add(review);
        await db.SaveChangesAsync(ct);
        TaskTimeline.Add(db, id, caller.TeamId, "review_requested", caller.Actor(), now,
            data: new { ReviewId = review.Id, Summary = review.Summary, review.HeadSha, Files = diff.Files.Count, diff.Additions, diff.Deletions });
        await db.SaveChangesAsync(ct);
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

    /// <summary>The task branch against the base branch; empty when the task has no branch yet (nothing to show).</summary>
    private static async Task<Merging.BranchDiffResult> ReadDiffAsync(Storage.Entities.Team team, Storage.Entities.TaskItem task, CancellationToken ct)
    {
        if (team.RepoPath is null || task.Branch is null) return new Merging.BranchDiffResult("", "", "", []);
        try
        {
            var diff = await Merging.BranchDiff.ComputeAsync(team.RepoPath, team.BaseBranch, task.Branch, ct);
            return diff with { Unified = Merging.BranchDiff.Truncate(diff.Unified, 512 * 1024) };
        }
        catch (Merging.GitException e)
        {
            throw ApiProblem.Conflict($"Cannot read branch {task.Branch} of task {task.Id}: {e.Message} Commit your work on that branch, then call request_review again.");
        }
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
