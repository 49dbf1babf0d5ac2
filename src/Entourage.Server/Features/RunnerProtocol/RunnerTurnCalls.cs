using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Hosting;
using Entourage.Server.Security;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Entourage.Server.Features.RunnerProtocol;

/// <summary>The calls a runner makes while one of its turns runs: its log, and where it works.</summary>
public static class RunnerTurnCalls
{
    public const int MaxLines = 10_000;
    public const int MaxPath = 1000;

    /// <summary>POST /runner/turns/{turn_id}/log: lines in order, through the same log path as a local turn (live viewers see them).</summary>
    public static async Task<NoContent> Log(string turn_id, RunnerLogRequest body, RequestCaller caller, AppDbContext db, TurnLedger ledger, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (body.Lines is null) errors.Add("lines", "Required: an array of output lines (strings, without their newline).");
        else if (body.Lines.Count > MaxLines) errors.Add("lines", $"At most {MaxLines} lines per call; send the rest in the next one.");
        else for (var i = 0; i < body.Lines.Count; i++)
            if (body.Lines[i] is null) errors.Add($"lines[{i}]", "A line is a string (use \"\" for an empty line).");
        var node = await RunnerProtocolEndpoints.NodeAsync(db, caller, body.NodeId, errors, ct);
        var turn = await RunnerProtocolEndpoints.TurnAsync(db, node, turn_id, ct);
        if (turn.State != TurnState.Running) throw RunnerProtocolEndpoints.Ended(turn);
        var chunk = string.Concat(body.Lines!.Select(l => l + "\n"));
        await ledger.AppendLogAsync(turn.Id, turn.TeamId, chunk, ct);
        return TypedResults.NoContent();
    }

    /// <summary>POST /runner/turns/{turn_id}/workspace: the turn's working directory on the runner, and the task's worktree and branch.</summary>
    public static async Task<NoContent> Workspace(string turn_id, RunnerWorkspaceRequest body, RequestCaller caller, AppDbContext db, TurnLedger ledger, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (string.IsNullOrWhiteSpace(body.WorkingDirectory)) errors.Add("working_directory", "Required: the absolute path the agent's process runs in on the runner.");
        else if (body.WorkingDirectory.Length > MaxPath) errors.Add("working_directory", $"At most {MaxPath} characters.");
        if ((body.WorktreePath is null) != (body.Branch is null))
            errors.Add(body.Branch is null ? "branch" : "worktree_path", "Send worktree_path and branch together (a task's worktree and its branch), or neither.");
        if (body.WorktreePath is { Length: > MaxPath }) errors.Add("worktree_path", $"At most {MaxPath} characters.");
        if (body.Branch is { } b && (b.Length > 250 || !b.StartsWith("entourage/", StringComparison.Ordinal)))
            errors.Add("branch", "The task branch the claim named (entourage/task-…), at most 250 characters.");
        var node = await RunnerProtocolEndpoints.NodeAsync(db, caller, body.NodeId, errors, ct);
        var turn = await RunnerProtocolEndpoints.TurnAsync(db, node, turn_id, ct);
        if (turn.State != TurnState.Running) throw RunnerProtocolEndpoints.Ended(turn);
        await ledger.SetWorkspaceAsync(turn.Id, turn.TaskId, body.WorkingDirectory!, body.WorktreePath, body.Branch, ct);
        return TypedResults.NoContent();
    }
}
