namespace Entourage.Server.Git;

/// <summary>
/// A git race outside our control: <c>git worktree add</c> creates <c>.git/worktrees/NAME/</c> before it writes the
/// files in it, and any git command that lists the repository's worktrees meanwhile (<c>branch</c>, <c>rebase</c>,
/// <c>worktree prune</c>: they check where each branch is checked out) dies with
/// "fatal: failed to read .git/worktrees/NAME/commondir". Our own adds are serialised per repository
/// (<see cref="Worktrees"/>), but an agent's own git, a runner's, a person's or a test's run beside them. Those
/// commands die at that check, before they change anything, so running them again once the add has finished is safe.
/// Seen in CI: the merge of one task racing the worktree of the dependent it made ready.
/// </summary>
internal static class WorktreeReadRace
{
    /// <summary>How many times a command that hit the race runs again, and the pause before each (the add takes milliseconds).</summary>
    public static readonly TimeSpan[] Backoff = [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(800)];

    public static bool Hit(ProcessResult r) =>
        !r.Ok && r.StdErr.Contains("failed to read", StringComparison.Ordinal) && r.StdErr.Contains("/worktrees/", StringComparison.Ordinal);
}
