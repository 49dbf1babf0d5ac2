using Entourage.Client.Contracts;

namespace Entourage.Client;

public sealed partial class EntourageClient
{
    /// <summary>GET /tasks/{id}/reviews: every review round of a task (state, summary, line comments, merge status).</summary>
    public Task<List<ReviewDto>> ListReviewsAsync(long taskId, CancellationToken ct = default) =>
        GetAsync<List<ReviewDto>>($"api/v1/tasks/{taskId}/reviews", ct);

    /// <summary>GET /tasks/{id}/diff: the task branch against its base, unified and per file.</summary>
    public Task<TaskDiffDto> GetTaskDiffAsync(long taskId, CancellationToken ct = default) =>
        GetAsync<TaskDiffDto>($"api/v1/tasks/{taskId}/diff", ct);

    /// <summary>POST /tasks/{id}/review: approve (the task joins the merge queue) or request changes with line comments.</summary>
    public Task<ReviewDto> SubmitReviewAsync(long taskId, ReviewDecisionRequest decision, CancellationToken ct = default) =>
        SendAsync<ReviewDto>(HttpMethod.Post, $"api/v1/tasks/{taskId}/review", decision, ct);
}
