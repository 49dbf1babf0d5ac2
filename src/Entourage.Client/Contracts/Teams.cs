using System.Text.Json.Nodes;

namespace Entourage.Client.Contracts;

/// <summary>A team. On creation (and GET) <see cref="Manager"/> is the team's manager agent.</summary>
public sealed record TeamDto(
    Guid Id,
    Guid OrgId,
    string Name,
    string Slug,
    string? Description,
    string? RepoPath,
    string BaseBranch,
    DateTime CreatedAt,
    AgentDto? Manager,
    IReadOnlyList<AgentDto>? Agents,
    string? RepoUrl = null,
    IReadOnlyList<string>? RunnerLabels = null);

/// <summary>
/// POST /orgs/{org_id}/teams. <c>repo_path</c> is a local git repository; <c>base_branch</c> defaults to its current
/// branch; <c>repo_url</c> is the remote runner nodes clone and push to; <c>runner_labels</c> pins the team's agents.
/// </summary>
public sealed record CreateTeamRequest(
    string? Name,
    string? Slug,
    string? Description = null,
    string? RepoPath = null,
    string? BaseBranch = null,
    string? ManagerModel = null,
    string? ManagerAdapter = null,
    JsonObject? ManagerConfig = null,
    string? RepoUrl = null,
    IReadOnlyList<string?>? RunnerLabels = null);

/// <summary>PATCH /teams/{team_id}: only the fields present change; <c>runner_labels: []</c> unpins, <c>repo_url: ""</c> clears.</summary>
public sealed record UpdateTeamRequest(
    string? Name = null,
    string? Slug = null,
    string? Description = null,
    string? RepoPath = null,
    string? BaseBranch = null,
    string? RepoUrl = null,
    IReadOnlyList<string?>? RunnerLabels = null);
