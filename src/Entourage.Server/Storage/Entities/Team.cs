namespace Entourage.Server.Storage.Entities;

public sealed class Team
{
    public Guid Id { get; set; }
    public Guid OrgId { get; set; }
    public required string Name { get; set; }
    public required string Slug { get; set; }
    public string? Description { get; set; }

    /// <summary>Local path of the team's git repository; worktrees go under {RepoPath}/.worktrees.</summary>
    public string? RepoPath { get; set; }
    public string BaseBranch { get; set; } = "main";

    /// <summary>
    /// Git remote shared with runner nodes (URL or path): runners clone it and push task branches to it; the merge
    /// queue fetches those branches from it and pushes the landed base branch back. Null: runners clone RepoPath.
    /// </summary>
    public string? RepoUrl { get; set; }

    // Settings (GET/PATCH /settings/teams/{id}); null limit = unlimited.
    public double? DailyCostLimitUsd { get; set; }
    public int? MaxConcurrentAgents { get; set; }
    public bool RequireReview { get; set; } = true;
    public string MergeStrategy { get; set; } = "squash";
    public string? CheckCommand { get; set; }
    public string? SetupCommand { get; set; }
    public bool RequirePlanApproval { get; set; }
    public string? ManagerPrompt { get; set; }
    public string? EngineerPrompt { get; set; }

    /// <summary>Placement: comma-joined labels (normalised, see NodeLabels) every node running this team's agents needs.</summary>
    public string? RunnerLabels { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
