using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Features;
using Entourage.Server.Features.Agents;
using Entourage.Server.Features.HumanRequests;
using Entourage.Server.Features.Reviews;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Features.Teams;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;

namespace Entourage.Server.Dashboard.Data;

/// <summary>
/// Every write of the dashboard goes through the same domain functions as the REST API (same validation, same
/// events, same dispatch requests), each in its own DI scope: one DbContext per operation.
/// </summary>
public sealed class DashboardActions(IServiceScopeFactory scopes, TimeProvider clock)
{
    public Task<ActionResult<T>> RunAsync<T>(Func<IServiceProvider, CancellationToken, Task<T>> work, CancellationToken ct) => RunCoreAsync(work, ct);

    private async Task<ActionResult<T>> RunCoreAsync<T>(Func<IServiceProvider, CancellationToken, Task<T>> work, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        try
        {
            return new ActionResult<T>(await work(scope.ServiceProvider, ct), null);
        }
        catch (ApiProblem p)
        {
            return new ActionResult<T>(default, p);
        }
        catch (Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException)
        {
            return new ActionResult<T>(default, ApiProblem.Conflict("Someone changed this at the same time. The view has been refreshed; try again."));
        }
    }

    public Task<ActionResult<TeamDto>> CreateTeamAsync(Guid orgId, CreateTeamRequest body, CancellationToken ct) =>
        RunAsync(async (sp, c) => (await CreateTeam.Handle(orgId.ToString(), body, Db(sp), sp.GetRequiredService<AgentViews>(), clock, c)).Value!, ct);

    public Task<ActionResult<AgentDto>> AddAgentAsync(Guid teamId, CreateAgentRequest body, CancellationToken ct) =>
        RunAsync(async (sp, c) =>
        {
            var (agent, token) = await CreateAgent.ExecuteAsync(Db(sp), teamId.ToString(), body, clock.GetUtcNow().UtcDateTime, c);
            return await sp.GetRequiredService<AgentViews>().ForAgentAsync(agent, c, token);
        }, ct);

    public Task<ActionResult<bool>> AnswerAsync(long requestId, string? answer, CancellationToken ct) =>
        RunAsync(async (sp, c) =>
        {
            await RespondToHumanRequest.ExecuteAsync(Db(sp), sp.GetRequiredService<ChangeInterceptor>(), requestId,
                new RespondHumanRequest(answer), "dashboard", clock, c);
            return true;
        }, ct);

    /// <summary>Approve or request changes, with line comments; the same use case as POST /reviews/{id}/approve|request-changes.</summary>
    public Task<ActionResult<ReviewDto>> DecideReviewAsync(long reviewId, ReviewDecision decision, string? body, IReadOnlyList<ReviewCommentInput> comments, CancellationToken ct) =>
        RunAsync((sp, c) => DecideReview.ExecuteAsync(Db(sp), reviewId, decision,
            new ReviewDecisionRequest(null, string.IsNullOrWhiteSpace(body) ? null : body, comments, null), Actor.Human("dashboard"), clock, c), ct);

    /// <summary>Moves a task as a person would with POST /tasks/{id}/status (retry a failed task, cancel one).</summary>
    public Task<ActionResult<TaskDto>> ChangeStatusAsync(long taskId, TaskState to, string? reason, CancellationToken ct) =>
        RunAsync((sp, c) => ChangeTaskStatus.ExecuteAsync(Db(sp), taskId, to, Actor.Human("dashboard"), reason, clock, c), ct);

    public Task<ActionResult<bool>> SaveSettingsAsync(Guid teamId, TeamSettingsModel settings, CancellationToken ct) =>
        RunAsync(async (sp, c) =>
        {
            await SaveTeamSettings.ExecuteAsync(Db(sp), teamId, settings, clock.GetUtcNow().UtcDateTime, c);
            return true;
        }, ct);

    /// <summary>
    /// Gives the manager a feature: a top-level task assigned to the team's manager, which wakes it to
    /// decompose the feature into sub-tasks (CreateTask enqueues the dispatch request in the same transaction).
    /// </summary>
    public Task<ActionResult<TaskDto>> SubmitFeatureAsync(Guid teamId, string? title, string? description, TaskPriority priority, CancellationToken ct) =>
        RunAsync(async (sp, c) =>
        {
            var db = Db(sp);
            var manager = await AgentLookup.ManagerOfAsync(db, teamId, c)
                ?? throw ApiProblem.Conflict("This team has no manager agent to give the feature to. Add an agent with role manager first.");
            var request = new CreateTaskRequest(title, description, EnumNames.ToSnake(priority), "feature", manager.Id.ToString());
            return await CreateTask.ExecuteAsync(db, teamId, request, Actor.Human("dashboard"), clock, c);
        }, ct);

    public static JsonObject DescriptionConfig(string? description) =>
        string.IsNullOrWhiteSpace(description) ? [] : new JsonObject { ["description"] = description.Trim() };

    private static AppDbContext Db(IServiceProvider sp) => sp.GetRequiredService<AppDbContext>();
}
