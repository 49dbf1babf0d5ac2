using Entourage.Server.Git;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Merging;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Reviews;

/// <summary>
/// GET /tasks/{id}/diff: the task branch against its base branch, live from git while the branch is unmerged;
/// after the merge (or without the repository) the diff recorded at the last review request.
/// </summary>
public static class TaskDiff
{
    public static async Task<TaskDiffDto> ExecuteAsync(AppDbContext db, long taskId, CancellationToken ct)
    {
        var task = await TaskViews.FindAsync(db, taskId, ct);
        var team = await db.Teams.FirstAsync(t => t.Id == task.TeamId, ct);
        var recorded = await db.Reviews.Where(r => r.TaskId == taskId).OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct);
        var live = task.Status != TaskState.Done && team.RepoPath is not null && task.Branch is not null && Directory.Exists(team.RepoPath);
        if (live)
        {
            try
            {
                var d = await BranchDiff.ComputeAsync(team.RepoPath!, team.BaseBranch, task.Branch!, ct);
                return new TaskDiffDto(task.Id, task.Branch!, team.BaseBranch, d.BaseSha, d.HeadSha, d.Additions, d.Deletions, d.Unified, d.Files);
            }
            catch (GitException) when (recorded is not null)
            {
                // The branch is gone; fall back to what was reviewed.
            }
        }
        if (recorded is null)
            throw ApiProblem.Conflict(task.Branch is null
                ? $"Task {taskId} has no branch yet: it gets one when an engineer starts working on it."
                : $"Task {taskId}'s branch {task.Branch} cannot be read and no review recorded its diff.");
        var files = BranchDiff.SplitFiles(recorded.Diff);
        return new TaskDiffDto(task.Id, task.Branch ?? "", team.BaseBranch, recorded.BaseSha ?? "", recorded.HeadSha ?? "",
            files.Sum(f => f.Additions), files.Sum(f => f.Deletions), recorded.Diff, files);
    }
}
