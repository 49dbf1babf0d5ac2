using System.Text;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Merging;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Reviews;

/// <summary>
/// A reviewer's verdict (a person over REST/CLI/dashboard, or a reviewer agent over MCP). Approve: the task joins
/// the merge queue. Request changes: the task returns to in_progress and its engineer gets ONE message with every
/// comment, each quoting the lines it is about.
/// </summary>
public static class DecideReview
{
    public const int MaxComments = 200;
    public const int MaxBody = 10_000;

    public static async Task<ReviewDto> ForTaskAsync(AppDbContext db, long taskId, ReviewDecisionRequest body, Actor actor, TimeProvider clock, CancellationToken ct)
    {
        await TaskViews.FindAsync(db, taskId, ct); // 404 for an unknown task
        var review = await db.Reviews.Where(r => r.TaskId == taskId).OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct)
            ?? throw ApiProblem.Conflict($"Task {taskId} has no review yet: its engineer requests one with request_review when the work is ready.");
        if (body.Decision is null) throw ApiProblem.Invalid("decision", "Required: \"approve\" or \"request_changes\".");
        return await ExecuteAsync(db, review.Id, body.Decision.Value, body, actor, clock, ct);
    }

    public static async Task<ReviewDto> ExecuteAsync(AppDbContext db, long reviewId, ReviewDecision decision, ReviewDecisionRequest body, Actor actor, TimeProvider clock, CancellationToken ct)
    {
        if (body.Decision is { } d && d != decision)
            throw ApiProblem.Invalid("decision", $"This endpoint records \"{EnumNames.ToSnake(decision)}\"; drop the decision field or use the other endpoint.");
        var review = await ReviewViews.FindAsync(db, reviewId, ct);
        var task = await TaskViews.FindAsync(db, review.TaskId, ct);
        var latest = await db.Reviews.Where(r => r.TaskId == review.TaskId).MaxAsync(r => r.Id, ct);
        if (review.Id != latest)
            throw ApiProblem.Conflict($"Review {reviewId} was superseded by review {latest} (the engineer sent a newer version); decide on that one.");
        if (review.State != ReviewState.Pending)
            throw ApiProblem.Conflict($"Review {reviewId} is already {EnumNames.ToSnake(review.State)}.",
                new Dictionary<string, object?> { ["state"] = EnumNames.ToSnake(review.State) });
        if (task.Status != TaskState.InReview)
            throw ApiProblem.Conflict($"Task {task.Id} is {EnumNames.ToSnake(task.Status)}, not in_review, so this review can no longer be decided.");

        var team = await db.Teams.FirstAsync(t => t.Id == task.TeamId, ct);
        var comments = await ValidateAsync(review, team, decision, body, ct);
        var reviewer = actor.Type == ActorType.Human && !string.IsNullOrWhiteSpace(body.Reviewer) ? body.Reviewer.Trim() : actor.Name;

        var now = clock.GetUtcNow().UtcDateTime;
        await using var tx = await TaskTransaction.BeginAsync(db, task.TeamId, ct);
        await db.Entry(task).ReloadAsync(ct);
        await db.Entry(review).ReloadAsync(ct);
        if (review.State != ReviewState.Pending) throw ApiProblem.Conflict($"Review {reviewId} was decided a moment ago; reload it.");
        review.State = decision == ReviewDecision.Approve ? ReviewState.Approved : ReviewState.ChangesRequested;
        review.Reviewer = reviewer;
        review.Body = string.IsNullOrWhiteSpace(body.Body) ? null : body.Body.Trim();
        review.DecidedAt = now;
        foreach (var c in comments)
            db.ReviewComments.Add(new ReviewComment { ReviewId = review.Id, FilePath = c.File, Line = c.Line, Body = c.Body, Author = reviewer, CreatedAt = now });
        await db.SaveChangesAsync(ct);

        var by = actor.Type == ActorType.Human ? Actor.Human(reviewer) : actor;
        if (decision == ReviewDecision.Approve)
        {
            TaskTimeline.Add(db, task.Id, task.TeamId, "review_approved", by, now, data: new { ReviewId = review.Id, Comments = comments.Count, review.Body });
            await MergeQueue.EnqueueAsync(db, task, now, ct);
        }
        else
        {
            TaskTimeline.Add(db, task.Id, task.TeamId, "changes_requested", by, now, data: new { ReviewId = review.Id, Comments = comments.Count, review.Body });
            await ChangeTaskStatus.ApplyAsync(db, task, TaskState.InProgress, by, "changes requested in review", now, ct);
            if (task.AssigneeId is { } engineer)
                await AgentNotice.AddAsync(db, task.TeamId, engineer, reviewer, task.Id, await FeedbackMessageAsync(team, task, review, comments, reviewer, ct), DispatchReason.Review, now, ct);
            else
            {
                // Nobody would rework it (its engineer was deleted while it was in review): back to todo, and the manager
                // is woken to give it to someone, who finds the review's comments on the task.
                await ChangeTaskStatus.ApplyAsync(db, task, TaskState.Todo, by, "changes requested and the task has no assignee: back to todo for the manager", now, ct);
                await DagEffects.EnqueueIfReadyAsync(db, task, by, now, toManagerIfUnassigned: true, ct);
            }
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return await ReviewViews.ToDtoAsync(db, review, ct);
    }

    private sealed record Checked(string File, int Line, string Body);

    /// <summary>Every comment must point at a line that exists in the reviewed version of a file the diff touches.</summary>
    private static async Task<List<Checked>> ValidateAsync(Review review, Team team, ReviewDecision decision, ReviewDecisionRequest body, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var input = body.Comments ?? [];
        if (body.Body is { Length: > MaxBody }) errors.Add("body", $"At most {MaxBody} characters.");
        if (body.Reviewer is { Length: > 100 }) errors.Add("reviewer", "At most 100 characters.");
        if (input.Count > MaxComments) errors.Add("comments", $"At most {MaxComments} comments per review.");
        if (decision == ReviewDecision.RequestChanges && input.Count == 0 && string.IsNullOrWhiteSpace(body.Body))
            errors.Add("comments", "Say what to change: give a body, or comments anchored to a file and line ({\"file\": \"src/app.py\", \"line\": 12, \"body\": \"…\"}).");
        var files = BranchDiff.SplitFiles(review.Diff).Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        var result = new List<Checked>();
        var cache = new Dictionary<string, IReadOnlyList<string>?>(StringComparer.Ordinal);
        for (var i = 0; i < Math.Min(input.Count, MaxComments); i++)
        {
            var c = input[i];
            var field = $"comments[{i}]";
            var file = c.File?.Trim().TrimStart('/');
            if (string.IsNullOrEmpty(file)) { errors.Add(field + ".file", "Required: the path of a file in the diff, relative to the repository root."); continue; }
            if (!files.Contains(file))
            {
                errors.Add(field + ".file", $"'{file}' is not part of this review's diff. Files in the diff: {string.Join(", ", files.Take(20))}.");
                continue;
            }
            if (string.IsNullOrWhiteSpace(c.Body)) errors.Add(field + ".body", "Required: what should change on this line.");
            else if (c.Body.Length > MaxBody) errors.Add(field + ".body", $"At most {MaxBody} characters.");
            if (c.Line is not { } line || line < 1) { errors.Add(field + ".line", "Required: a line number (1-based) in the new version of the file."); continue; }
            if (!cache.TryGetValue(file, out var lines))
                cache[file] = lines = team.RepoPath is null || review.HeadSha is null ? null : await BranchDiff.ReadLinesAsync(team.RepoPath, review.HeadSha, file, ct);
            if (lines is null) errors.Add(field + ".line", $"'{file}' was deleted in this change; comment on a line of a file that still exists.");
            else if (line > lines.Count) errors.Add(field + ".line", $"'{file}' has {lines.Count} lines in the reviewed version; pick a line between 1 and {lines.Count}.");
            else if (!string.IsNullOrWhiteSpace(c.Body)) result.Add(new Checked(file, line, c.Body.Trim()));
        }
        errors.ThrowIfAny();
        return result;
    }

    private static async Task<string> FeedbackMessageAsync(Team team, TaskItem task, Review review, List<Checked> comments, string reviewer, CancellationToken ct)
    {
        var sb = new StringBuilder();
        sb.Append($"Review of task #{task.Id} (\"{task.Title}\"): {reviewer} requested changes.");
        if (review.Body is not null) sb.Append("\n\n").Append(review.Body);
        var n = 0;
        foreach (var c in comments.OrderBy(c => c.File, StringComparer.Ordinal).ThenBy(c => c.Line))
        {
            sb.Append($"\n\n{++n}. {c.File}, line {c.Line}:\n");
            var quote = team.RepoPath is null || review.HeadSha is null ? null : await ReviewViews.QuoteAsync(team.RepoPath, review.HeadSha, c.File, c.Line, ct);
            if (quote is not null) sb.Append("```\n").Append(quote).Append("\n```\n");
            sb.Append(c.Body);
        }
        sb.Append("\n\nFix these in your worktree, commit, and call request_review again (get_review_feedback shows this review again).");
        return sb.ToString();
    }
}
