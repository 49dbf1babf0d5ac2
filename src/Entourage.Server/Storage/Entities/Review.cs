using Entourage.Client.Contracts;

namespace Entourage.Server.Storage.Entities;

public sealed class Review
{
    public long Id { get; set; }
    public long TaskId { get; set; }
    public Guid TeamId { get; set; }
    public ReviewState State { get; set; } = ReviewState.Pending;
    public string Diff { get; set; } = "";
    public string? BaseSha { get; set; }
    public string? HeadSha { get; set; }
    public string? Summary { get; set; }
    public string? Reviewer { get; set; }

    /// <summary>The reviewer's overall remark with the decision.</summary>
    public string? Body { get; set; }
    public DateTime RequestedAt { get; set; }
    public DateTime? DecidedAt { get; set; }
}

public sealed class ReviewComment
{
    public long Id { get; set; }
    public long ReviewId { get; set; }
    public required string FilePath { get; set; }
    public int Line { get; set; }
    public required string Body { get; set; }
    public string? Author { get; set; }
    public DateTime CreatedAt { get; set; }
}
