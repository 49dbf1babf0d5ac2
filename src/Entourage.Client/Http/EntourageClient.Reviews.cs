using Entourage.Client.Contracts;

namespace Entourage.Client;

public sealed partial class EntourageClient
{
    /// <summary>GET /tasks/{id}/review: the task's latest review (state, summary, line comments, merge status).</summary>
    public Task<ReviewDto> GetReviewAsync(long taskId, CancellationToken ct = default) =>
        GetAsync<ReviewDto>($"api/v1/tasks/{taskId}/review", ct);

    /// <summary>GET /tasks/{id}/diff: the task branch against its base, unified and per file.</summary>
    public Task<TaskDiffDto> GetTaskDiffAsync(long taskId, CancellationToken ct = default) =>
        GetAsync<TaskDiffDto>($"api/v1/tasks/{taskId}/diff", ct);

    /// <summary>POST /tasks/{id}/review: approve (the task joins the merge queue) or request changes with line comments.</summary>
    public Task<ReviewDto> SubmitReviewAsync(long taskId, ReviewDecisionRequest decision, CancellationToken ct = default) =>
        SendAsync<ReviewDto>(HttpMethod.Post, $"api/v1/tasks/{taskId}/review", decision, ct);
}
