using Entourage.Client.Contracts;

namespace Entourage.Client;

public sealed partial class EntourageClient
{
    public Task<TaskDto> CreateTaskAsync(string team, CreateTaskRequest request, CancellationToken ct = default) =>
        SendAsync<TaskDto>(HttpMethod.Post, $"api/v1/teams/{Esc(team)}/tasks", request, ct);

    public Task<CreateTasksBatchResponse> CreateTasksBatchAsync(string team, CreateTasksBatchRequest request, CancellationToken ct = default) =>
        SendAsync<CreateTasksBatchResponse>(HttpMethod.Post, $"api/v1/teams/{Esc(team)}/tasks/batch", request, ct);

    public Task<List<TaskDto>> ListTasksAsync(string team, TaskListQuery? query = null, CancellationToken ct = default) =>
        GetAsync<List<TaskDto>>($"api/v1/teams/{Esc(team)}/tasks" + Query(
            ("status", query?.Status), ("assignee", query?.Assignee), ("parent", query?.Parent),
            ("ready", query?.Ready is { } r ? (r ? "true" : "false") : null),
            ("after", query?.After?.ToString(System.Globalization.CultureInfo.InvariantCulture))), ct);

    public Task<TaskDto> GetTaskAsync(long taskId, CancellationToken ct = default) =>
        GetAsync<TaskDto>($"api/v1/tasks/{taskId}", ct);

    public Task<TaskDto> UpdateTaskAsync(long taskId, UpdateTaskRequest request, CancellationToken ct = default) =>
        SendAsync<TaskDto>(HttpMethod.Patch, $"api/v1/tasks/{taskId}", request, ct);

    public Task<TaskDto> ChangeTaskStatusAsync(long taskId, ChangeTaskStatusRequest request, CancellationToken ct = default) =>
        SendAsync<TaskDto>(HttpMethod.Post, $"api/v1/tasks/{taskId}/status", request, ct);

    public Task<TaskDto> AssignTaskAsync(long taskId, AssignTaskRequest request, CancellationToken ct = default) =>
        SendAsync<TaskDto>(HttpMethod.Post, $"api/v1/tasks/{taskId}/assign", request, ct);

    public Task<List<TaskEventDto>> GetTaskEventsAsync(long taskId, CancellationToken ct = default) =>
        GetAsync<List<TaskEventDto>>($"api/v1/tasks/{taskId}/events", ct);

    /// <summary>Blocks server-side until every task is terminal or the timeout passes (POST /tasks/wait).</summary>
    public Task<WaitTasksResponse> WaitForTasksAsync(WaitTasksRequest request, CancellationToken ct = default) =>
        SendAsync<WaitTasksResponse>(HttpMethod.Post, "api/v1/tasks/wait", request, ct);

    internal static string Query(params (string Key, string? Value)[] pairs)
    {
        var present = pairs.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }
}
