using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Merging;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Reviews;

public static class ReviewViews
{
    public static async Task<Review> FindAsync(AppDbContext db, long id, CancellationToken ct) =>
        await db.Reviews.FirstOrDefaultAsync(r => r.Id == id, ct) ?? throw ApiProblem.NotFound("review", id);

    public static async Task<ReviewDto> ToDtoAsync(AppDbContext db, Review r, CancellationToken ct)
    {
        var comments = await db.ReviewComments.Where(c => c.ReviewId == r.Id).OrderBy(c => c.Id).ToListAsync(ct);
        var repo = comments.Count == 0 ? null : await db.Teams.Where(t => t.Id == r.TeamId).Select(t => t.RepoPath).FirstOrDefaultAsync(ct);
        var dtos = new List<ReviewCommentDto>(comments.Count);
        foreach (var c in comments)
        {
            var quote = repo is null || r.HeadSha is null ? null : await QuoteAsync(repo, r.HeadSha, c.FilePath, c.Line, ct);
            dtos.Add(new ReviewCommentDto(c.Id, c.ReviewId, c.FilePath, c.Line, c.Body, c.Author, quote, c.CreatedAt));
        }
        var merge = await db.MergeQueue.Where(m => m.TaskId == r.TaskId && m.CreatedAt >= r.RequestedAt).OrderByDescending(m => m.Id).FirstOrDefaultAsync(ct);
        return new ReviewDto(r.Id, r.TaskId, r.TeamId, r.State, r.BaseSha, r.HeadSha, r.Summary, r.Reviewer, r.Body, r.RequestedAt, r.DecidedAt, dtos,
            merge is null ? null : MergeQueue.ToDto(merge));
    }

    /// <summary>The commented line with one line of context each side, numbered, the commented one marked "&gt;".</summary>
    public static async Task<string?> QuoteAsync(string repo, string commit, string path, int line, CancellationToken ct)
    {
        var lines = await BranchDiff.ReadLinesAsync(repo, commit, path, ct);
        if (lines is null || line < 1 || line > lines.Count) return null;
        var from = Math.Max(1, line - 1);
        var to = Math.Min(lines.Count, line + 1);
        var width = to.ToString().Length;
        return string.Join('\n', Enumerable.Range(from, to - from + 1)
            .Select(n => $"{(n == line ? ">" : " ")} {n.ToString().PadLeft(width)} | {lines[n - 1]}"));
    }

    /// <summary>get_review_feedback: the latest review of a task with its comments and quoted lines.</summary>
    public static async Task<ReviewDto?> LatestAsync(AppDbContext db, long taskId, CancellationToken ct)
    {
        if (!await db.Tasks.AnyAsync(t => t.Id == taskId, ct)) throw ApiProblem.NotFound("task", taskId);
        var r = await db.Reviews.Where(x => x.TaskId == taskId).OrderByDescending(x => x.Id).FirstOrDefaultAsync(ct);
        return r is null ? null : await ToDtoAsync(db, r, ct);
    }
}
