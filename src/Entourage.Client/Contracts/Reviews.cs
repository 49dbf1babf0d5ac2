namespace Entourage.Client.Contracts;

/// <summary>One file of a task branch's diff against its base branch.</summary>
public sealed record FileDiffDto(
    string Path,
    string? OldPath,
    string Status,
    int Additions,
    int Deletions,
    bool Binary,
    string Patch);

/// <summary>GET /tasks/{id}/diff: the branch against its base, as one unified diff and per file.</summary>
public sealed record TaskDiffDto(
    long TaskId,
    string Branch,
    string BaseBranch,
    string BaseSha,
    string HeadSha,
    int Additions,
    int Deletions,
    string Unified,
    IReadOnlyList<FileDiffDto> Files);

public sealed record ReviewCommentDto(long Id, long ReviewId, string FilePath, int Line, string Body, string? Author, string? Quote, DateTime CreatedAt);

public sealed record ReviewDto(
    long Id,
    long TaskId,
    Guid TeamId,
    ReviewState State,
    string? BaseSha,
    string? HeadSha,
    string? Summary,
    string? Reviewer,
    string? Body,
    DateTime RequestedAt,
    DateTime? DecidedAt,
    IReadOnlyList<ReviewCommentDto> Comments,
    MergeStatusDto? Merge);

/// <summary>A comment anchored to a line of the new version of a file in the diff.</summary>
public sealed record ReviewCommentInput(string? File, int? Line, string? Body);

/// <summary>POST /tasks/{id}/review (decision approve|request_changes) and /reviews/{id}/approve|request-changes.</summary>
public sealed record ReviewDecisionRequest(
    ReviewDecision? Decision = null,
    string? Body = null,
    IReadOnlyList<ReviewCommentInput>? Comments = null,
    string? Reviewer = null);

public enum ReviewDecision { Approve, RequestChanges }

/// <summary>request_review's input (the engineer's hand-off).</summary>
public sealed record RequestReviewInput(long? TaskId, string? Summary = null);

/// <summary>Where an approved task is in the merge queue.</summary>
public sealed record MergeStatusDto(long Id, long TaskId, MergeState State, string? Phase, int Attempts, string? MergedSha, string? Error, DateTime CreatedAt, DateTime UpdatedAt);
