using Entourage.Client.Contracts;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Features.Teams;
using Entourage.Server.Hosting;
using Entourage.Server.Merging;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Reviews;

/// <summary>Review and merge over REST; people act as reviewers (optionally naming themselves with "reviewer").</summary>
public static class ReviewEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("").WithTags("Reviews");
        g.MapGet("/tasks/{task_id:long}/diff", Diff).WithSummary("The task branch against its base: unified, and per file (?file=path; ?format=unified for text/x-diff).");
        g.MapPost("/tasks/{task_id:long}/request-review", Request).WithSummary("Send an in-progress task to review (what the request_review tool does).");
        g.MapPost("/tasks/{task_id:long}/review", DecideForTask).WithSummary("Approve or request changes on the task's open review: {decision, body, comments:[{file, line, body}]}.");
        g.MapGet("/tasks/{task_id:long}/reviews", ListForTask);
        g.MapGet("/reviews/{review_id:long}", Get);
        g.MapPost("/reviews/{review_id:long}/approve", (long review_id, ReviewDecisionRequest? body, AppDbContext db, TimeProvider clock, CancellationToken ct) =>
            Decide(review_id, ReviewDecision.Approve, body, db, clock, ct));
        g.MapPost("/reviews/{review_id:long}/request-changes", (long review_id, ReviewDecisionRequest body, AppDbContext db, TimeProvider clock, CancellationToken ct) =>
            Decide(review_id, ReviewDecision.RequestChanges, body, db, clock, ct));
        g.MapGet("/tasks/{task_id:long}/merge", MergeStatus);
        g.MapPost("/tasks/{task_id:long}/merge", Requeue).WithSummary("Queue an approved task for merging again after a merge failed for a reason outside its code.");
        g.MapGet("/teams/{team_id}/merge-queue", Queue);
    }

    private static async Task<IResult> Diff(long task_id, AppDbContext db, CancellationToken ct, string? file = null, string? format = null)
    {
        var diff = await TaskDiff.ExecuteAsync(db, task_id, ct);
        if (format is not null && format != "unified" && format != "json")
            throw ApiProblem.Invalid("format", "Use \"json\" (default: unified and per file) or \"unified\" (plain text/x-diff).");
        if (file is not null)
        {
            var one = diff.Files.FirstOrDefault(f => f.Path == file || f.OldPath == file)
                ?? throw ApiProblem.Invalid("file", $"'{file}' is not in the diff. Files: {string.Join(", ", diff.Files.Select(f => f.Path).Take(50))}.");
            return format == "unified" ? TypedResults.Text(one.Patch, "text/x-diff") : TypedResults.Ok(one);
        }
        return format == "unified" ? TypedResults.Text(diff.Unified, "text/x-diff") : TypedResults.Ok(diff);
    }

    private static async Task<Ok<ReviewDto>> Request(long task_id, RequestReviewBody? body, AppDbContext db, TimeProvider clock, CancellationToken ct) =>
        TypedResults.Ok(await RequestReview.ExecuteAsync(db, task_id, body?.Summary, Actor.Human(), clock, ct));

    private static async Task<Ok<ReviewDto>> DecideForTask(long task_id, ReviewDecisionRequest body, AppDbContext db, TimeProvider clock, CancellationToken ct) =>
        TypedResults.Ok(await DecideReview.ForTaskAsync(db, task_id, body, Actor.Human(body.Reviewer), clock, ct));

    private static async Task<Ok<ReviewDto>> Decide(long review_id, ReviewDecision decision, ReviewDecisionRequest? body, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        body ??= new ReviewDecisionRequest();
        return TypedResults.Ok(await DecideReview.ExecuteAsync(db, review_id, decision, body, Actor.Human(body.Reviewer), clock, ct));
    }

    private static async Task<Ok<List<ReviewDto>>> ListForTask(long task_id, AppDbContext db, CancellationToken ct)
    {
        await TaskViews.FindAsync(db, task_id, ct);
        var reviews = await db.Reviews.Where(r => r.TaskId == task_id).OrderBy(r => r.Id).ToListAsync(ct);
        var result = new List<ReviewDto>(reviews.Count);
        foreach (var r in reviews) result.Add(await ReviewViews.ToDtoAsync(db, r, ct));
        return TypedResults.Ok(result);
    }

    private static async Task<Ok<ReviewDto>> Get(long review_id, AppDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await ReviewViews.ToDtoAsync(db, await ReviewViews.FindAsync(db, review_id, ct), ct));

    private static async Task<Ok<List<MergeStatusDto>>> MergeStatus(long task_id, AppDbContext db, CancellationToken ct)
    {
        await TaskViews.FindAsync(db, task_id, ct);
        return TypedResults.Ok((await db.MergeQueue.Where(m => m.TaskId == task_id).OrderBy(m => m.Id).ToListAsync(ct)).Select(MergeQueue.ToDto).ToList());
    }

    private static async Task<Ok<MergeStatusDto>> Requeue(long task_id, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var task = await TaskViews.FindAsync(db, task_id, ct);
        var approved = await db.Reviews.Where(r => r.TaskId == task_id).OrderByDescending(r => r.Id).Select(r => (ReviewState?)r.State).FirstOrDefaultAsync(ct);
        if (task.Status != TaskState.InReview || approved != ReviewState.Approved)
            throw ApiProblem.Conflict($"Only an approved task in review can be queued for merging; task {task_id} is {EnumNames.ToSnake(task.Status)}.");
        var item = await MergeQueue.EnqueueAsync(db, task, clock.GetUtcNow().UtcDateTime, ct);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(MergeQueue.ToDto(item));
    }

    private static async Task<Ok<List<MergeStatusDto>>> Queue(string team_id, AppDbContext db, CancellationToken ct)
    {
        var team = await TeamEndpoints.FindAsync(db, team_id, ct);
        var items = await db.MergeQueue.Where(m => m.TeamId == team.Id).OrderByDescending(m => m.Id).Take(200).ToListAsync(ct);
        return TypedResults.Ok(items.Select(MergeQueue.ToDto).ToList());
    }
}

/// <summary>POST /tasks/{id}/request-review body.</summary>
public sealed record RequestReviewBody(string? Summary = null);
