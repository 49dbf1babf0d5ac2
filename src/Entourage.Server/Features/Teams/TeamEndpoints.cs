using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using Entourage.Server.Features.Orgs;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Teams;

public static class TeamEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/orgs/{org_id}/teams", CreateTeam.Handle).WithTags("Teams");
        api.MapGet("/orgs/{org_id}/teams", List).WithTags("Teams");
        api.MapGet("/teams/{team_id}", Get).WithTags("Teams");
        api.MapPatch("/teams/{team_id}", UpdateTeam.Handle).WithTags("Teams");
    }

    private static async Task<Ok<List<TeamDto>>> List(string org_id, AppDbContext db, AgentViews views, CancellationToken ct)
    {
        var org = await OrgEndpoints.FindAsync(db, org_id, ct);
        var teams = await db.Teams.Where(t => t.OrgId == org.Id).OrderBy(t => t.CreatedAt).ToListAsync(ct);
        var result = new List<TeamDto>(teams.Count);
        foreach (var t in teams) result.Add(await ToDtoAsync(t, views, ct));
        return TypedResults.Ok(result);
    }

    private static async Task<Ok<TeamDto>> Get(string team_id, AppDbContext db, AgentViews views, CancellationToken ct) =>
        TypedResults.Ok(await ToDtoAsync(await FindAsync(db, team_id, ct), views, ct));

    /// <summary>Finds a team by uuid or by slug (slugs are unique per org; the first match wins).</summary>
    public static async Task<Team> FindAsync(AppDbContext db, string idOrSlug, CancellationToken ct) =>
        (Guid.TryParse(idOrSlug, out var id)
            ? await db.Teams.FirstOrDefaultAsync(t => t.Id == id, ct)
            : await db.Teams.OrderBy(t => t.CreatedAt).FirstOrDefaultAsync(t => t.Slug == idOrSlug, ct))
        ?? throw ApiProblem.NotFound("team", idOrSlug);

    public static async Task<TeamDto> ToDtoAsync(Team t, AgentViews views, CancellationToken ct, AgentDto? managerWithToken = null)
    {
        var agents = await views.ForTeamAsync(t.Id, ct);
        if (managerWithToken is not null) agents = agents.Select(a => a.Id == managerWithToken.Id ? managerWithToken : a).ToList();
        var manager = agents.FirstOrDefault(a => a.Role == AgentRole.Manager);
        return new TeamDto(t.Id, t.OrgId, t.Name, t.Slug, t.Description, t.RepoPath, t.BaseBranch, t.CreatedAt, manager, agents,
            t.RepoUrl, Runners.NodeLabels.Parse(t.RunnerLabels));
    }

    /// <summary>repo_url: a git URL or absolute path every node can reach ("" clears it in a PATCH).</summary>
    public static void ValidateRepoUrl(ValidationErrors errors, string? repoUrl)
    {
        if (string.IsNullOrEmpty(repoUrl)) return;
        if (repoUrl.Length > 1000 || repoUrl.Trim() != repoUrl || repoUrl.StartsWith('-') || repoUrl.Any(char.IsControl))
            errors.Add("repo_url", "Give the git remote runner nodes clone and push to: a URL (https://…, ssh://…, git@host:path) or an absolute path, at most 1000 characters, without spaces around it.");
    }

    /// <summary>Checks repo_path names a git repository the server can reach.</summary>
    public static void ValidateRepo(ValidationErrors errors, string? repoPath, string? baseBranch)
    {
        if (repoPath is not null)
        {
            if (!Path.IsPathFullyQualified(repoPath)) errors.Add("repo_path", "Give an absolute path to a local git repository.");
            else if (!Directory.Exists(repoPath)) errors.Add("repo_path", $"Directory '{repoPath}' does not exist.");
            else if (!Directory.Exists(Path.Combine(repoPath, ".git")) && !File.Exists(Path.Combine(repoPath, ".git")))
                errors.Add("repo_path", $"'{repoPath}' is not a git repository (no .git). Run `git init` there first.");
        }
        if (baseBranch is not null && (baseBranch.Length is 0 or > 200 || baseBranch.Contains(' ') || baseBranch.StartsWith('-')))
            errors.Add("base_branch", "Give a branch name such as \"main\".");
    }
}

public static class CreateTeam
{
    public static async Task<Created<TeamDto>> Handle(string org_id, CreateTeamRequest body, AppDbContext db, AgentViews views, TimeProvider clock, CancellationToken ct)
    {
        var org = await OrgEndpoints.FindAsync(db, org_id, ct);
        var errors = new ValidationErrors();
        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name)) errors.Add("name", "Required: give the team a name, e.g. \"Platform\".");
        else if (name.Length > 200) errors.Add("name", "At most 200 characters.");
        var slug = body.Slug?.Trim() ?? Slugs.From(name ?? "");
        if (!Slugs.IsValid(slug)) errors.Add("slug", Slugs.Rule);
        TeamEndpoints.ValidateRepo(errors, body.RepoPath, body.BaseBranch);
        TeamEndpoints.ValidateRepoUrl(errors, body.RepoUrl);
        var labels = Runners.NodeLabels.Normalize(body.RunnerLabels, errors, "runner_labels");
        errors.ThrowIfAny();
        if (await db.Teams.AnyAsync(t => t.OrgId == org.Id && t.Slug == slug, ct)) throw SlugTaken(org, slug);

        var now = clock.GetUtcNow().UtcDateTime;
        var team = new Team
        {
            Id = Guid.CreateVersion7(),
            OrgId = org.Id,
            Name = name!,
            Slug = slug,
            Description = body.Description,
            RepoPath = body.RepoPath,
            BaseBranch = body.BaseBranch ?? "main",
            RepoUrl = string.IsNullOrEmpty(body.RepoUrl) ? null : body.RepoUrl,
            RunnerLabels = labels,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Teams.Add(team);
        // The spec: "Create the team (manager is auto-created)" — in the same transaction.
        var (manager, token) = await AgentFactory.AddAsync(db, team.Id,
            new CreateAgentRequest("manager", AgentRole.Manager, body.ManagerModel, body.ManagerAdapter, body.ManagerConfig ?? AgentFactory.ManagerDefaultConfig()),
            now, ct, "manager_");
        await db.SaveOrConflictAsync(() => SlugTaken(org, slug), ct);

        var managerDto = await views.ForAgentAsync(manager, ct, token);
        return TypedResults.Created($"/api/v1/teams/{team.Id}", await TeamEndpoints.ToDtoAsync(team, views, ct, managerDto));
    }

    private static ApiProblem SlugTaken(Org org, string slug) => ApiProblem.Conflict($"Org '{org.Slug}' already has a team with slug '{slug}'. Pick another slug.");
}

public static class UpdateTeam
{
    public static async Task<Ok<TeamDto>> Handle(string team_id, UpdateTeamRequest body, AppDbContext db, AgentViews views, TimeProvider clock, CancellationToken ct)
    {
        var team = await TeamEndpoints.FindAsync(db, team_id, ct);
        var errors = new ValidationErrors();
        if (body.Name is not null && (body.Name.Trim().Length == 0 || body.Name.Length > 200)) errors.Add("name", "1–200 characters.");
        if (body.Slug is not null && !Slugs.IsValid(body.Slug)) errors.Add("slug", Slugs.Rule);
        TeamEndpoints.ValidateRepo(errors, body.RepoPath, body.BaseBranch);
        TeamEndpoints.ValidateRepoUrl(errors, body.RepoUrl);
        var labels = Runners.NodeLabels.Normalize(body.RunnerLabels, errors, "runner_labels");
        errors.ThrowIfAny();
        if (body.Slug is not null && body.Slug != team.Slug && await db.Teams.AnyAsync(t => t.OrgId == team.OrgId && t.Slug == body.Slug, ct))
            throw SlugTaken(body.Slug);

        if (body.Name is not null) team.Name = body.Name.Trim();
        if (body.Slug is not null) team.Slug = body.Slug;
        if (body.Description is not null) team.Description = body.Description;
        if (body.RepoPath is not null) team.RepoPath = body.RepoPath;
        if (body.BaseBranch is not null) team.BaseBranch = body.BaseBranch;
        if (body.RepoUrl is not null) team.RepoUrl = body.RepoUrl.Length == 0 ? null : body.RepoUrl;
        if (body.RunnerLabels is not null) team.RunnerLabels = labels;
        team.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveOrConflictAsync(() => SlugTaken(team.Slug), ct);
        return TypedResults.Ok(await TeamEndpoints.ToDtoAsync(team, views, ct));
    }

    private static ApiProblem SlugTaken(string slug) => ApiProblem.Conflict($"Another team already uses slug '{slug}'. Pick another slug.");
}
