using System.Text.Json;
using Entourage.Client.Contracts;
using Entourage.Server.Agents;
using Entourage.Server.Features.Agents;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Dashboard.Data;

/// <summary>
/// Every read of the dashboard. Each call opens its own short DbContext (a circuit lives for hours; a context
/// must not), and returns read models, so views re-query after a change event instead of patching state.
/// </summary>
public sealed class DashboardQueries(IDbContextFactory<AppDbContext> contexts, AdapterCatalog adapters, TimeProvider clock)
{
    private static readonly TaskState[] Open = [TaskState.Todo, TaskState.InProgress, TaskState.InReview];

    public DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    public async Task<List<TeamSummary>> TeamsAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var today = Today;
        var teams = await db.Teams.AsNoTracking().OrderBy(t => t.CreatedAt).ToListAsync(ct);
        var agents = await db.Agents.GroupBy(a => a.TeamId).Select(g => new { g.Key, N = g.Count() }).ToListAsync(ct);
        var busy = await db.Turns.Where(t => t.State == TurnState.Running).GroupBy(t => t.TeamId)
            .Select(g => new { g.Key, N = g.Select(t => t.AgentId).Distinct().Count() }).ToListAsync(ct);
        var open = await db.Tasks.Where(t => Open.Contains(t.Status)).GroupBy(t => t.TeamId).Select(g => new { g.Key, N = g.Count() }).ToListAsync(ct);
        var asks = await db.HumanRequests.Where(h => h.Status == HumanRequestStatus.Pending).GroupBy(h => h.TeamId).Select(g => new { g.Key, N = g.Count() }).ToListAsync(ct);
        var costs = await db.UsageRecords.Where(u => u.Day == today).Select(u => new { u.TeamId, u.CostUsd }).ToListAsync(ct);
        return teams.Select(t => new TeamSummary(t.Id, t.Name, t.Slug, t.Description,
            agents.FirstOrDefault(x => x.Key == t.Id)?.N ?? 0,
            busy.FirstOrDefault(x => x.Key == t.Id)?.N ?? 0,
            open.FirstOrDefault(x => x.Key == t.Id)?.N ?? 0,
            asks.FirstOrDefault(x => x.Key == t.Id)?.N ?? 0,
            costs.Where(c => c.TeamId == t.Id).Sum(c => c.CostUsd),
            t.DailyCostLimitUsd)).ToList();
    }

    public async Task<TeamOverview?> TeamAsync(Guid teamId, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var t = await db.Teams.AsNoTracking().FirstOrDefaultAsync(x => x.Id == teamId, ct);
        if (t is null) return null;
        // Status comes from the same function as GET /teams/{id}/agents, so the dashboard never disagrees with the API.
        var agents = await new AgentViews(db, adapters).ForTeamAsync(teamId, ct);
        var taskIds = agents.Where(a => a.CurrentTaskId is not null).Select(a => a.CurrentTaskId!.Value).ToList();
        var titles = await db.Tasks.Where(x => taskIds.Contains(x.Id)).Select(x => new { x.Id, x.Title }).ToDictionaryAsync(x => x.Id, x => x.Title, ct);
        var rows = agents.Select(a => new AgentRow(a,
            a.Config["description"]?.GetValueKind() == JsonValueKind.String ? a.Config["description"]!.GetValue<string>() : null,
            a.CurrentTaskId is { } id && titles.TryGetValue(id, out var title) ? title : null)).ToList();
        return new TeamOverview(t.Id, t.OrgId, t.Name, t.Slug, t.Description, t.RepoPath, t.BaseBranch, rows);
    }

    /// <summary>Tasks of a team as cards (with the reason each todo task is not running).</summary>
    public async Task<List<TaskCard>> TasksAsync(Guid teamId, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var tasks = await db.Tasks.AsNoTracking().Where(t => t.TeamId == teamId).OrderBy(t => t.Id).ToListAsync(ct);
        return await CardsAsync(db, tasks, ct);
    }

    private static async Task<List<TaskCard>> CardsAsync(AppDbContext db, List<TaskItem> tasks, CancellationToken ct)
    {
        var ids = tasks.Select(t => t.Id).ToList();
        var edges = await db.TaskDependencies.Where(d => ids.Contains(d.TaskId)).ToListAsync(ct);
        var depIds = edges.Select(e => e.DependsOnId).Except(ids).ToList();
        var states = tasks.ToDictionary(t => t.Id, t => t.Status);
        foreach (var extra in await db.Tasks.Where(t => depIds.Contains(t.Id)).Select(t => new { t.Id, t.Status }).ToListAsync(ct))
            states[extra.Id] = extra.Status;
        var assignees = tasks.Where(t => t.AssigneeId is not null).Select(t => t.AssigneeId!.Value).Distinct().ToList();
        var names = await db.Agents.Where(a => assignees.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);
        var running = (await db.Turns.Where(t => t.State == TurnState.Running && t.TaskId != null && ids.Contains(t.TaskId.Value))
            .Select(t => t.TaskId!.Value).ToListAsync(ct)).ToHashSet();
        var byTask = edges.ToLookup(e => e.TaskId, e => e.DependsOnId);

        return tasks.Select(t =>
        {
            var deps = byTask[t.Id].OrderBy(x => x).ToList();
            var (look, why) = TaskLooks.Classify(t.Status, t.AssigneeId is not null, running.Contains(t.Id),
                deps.Select(d => new TaskLooks.Dep(d, states.GetValueOrDefault(d, TaskState.Todo))).ToList(), t.FailureReason);
            return new TaskCard(t.Id, t.Title, t.Priority, t.TaskType, t.Status, look, t.ParentId, t.AssigneeId,
                t.AssigneeId is { } a ? names.GetValueOrDefault(a) : null, deps, why, t.UpdatedAt);
        }).ToList();
    }

    /// <summary>A feature (top-level task) and every task below it; features of the team for the picker.</summary>
    public async Task<(List<TaskCard> Features, List<TaskCard> Tasks)> DagAsync(Guid teamId, long? featureId, CancellationToken ct)
    {
        var all = await TasksAsync(teamId, ct);
        var features = all.Where(t => t.ParentId is null && all.Any(c => c.ParentId == t.Id)).ToList();
        if (featureId is null) return (features, all.Where(t => t.State != TaskState.Cancelled).ToList());
        var keep = new HashSet<long> { featureId.Value };
        // Children may be created in any order; grow the set until it stops changing.
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var t in all)
                if (t.ParentId is { } p && keep.Contains(p) && keep.Add(t.Id)) grew = true;
        }
        return (features, all.Where(t => keep.Contains(t.Id)).ToList());
    }

    public async Task<Guid?> TeamOfTaskAsync(long taskId, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.Tasks.Where(t => t.Id == taskId).Select(t => (Guid?)t.TeamId).FirstOrDefaultAsync(ct);
    }

    public async Task<TaskDetail?> TaskAsync(long taskId, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var t = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(x => x.Id == taskId, ct);
        if (t is null) return null;
        var card = (await CardsAsync(db, [t], ct)).Single();
        var team = await db.Teams.Where(x => x.Id == t.TeamId).Select(x => x.Name).FirstAsync(ct);
        var agents = await db.Agents.Where(a => a.TeamId == t.TeamId).ToDictionaryAsync(a => a.Id, a => a.Name, ct);

        var depIds = await db.TaskDependencies.Where(d => d.TaskId == taskId).Select(d => d.DependsOnId).ToListAsync(ct);
        var deps = await db.Tasks.Where(x => depIds.Contains(x.Id)).OrderBy(x => x.Id).Select(x => new DependencyRef(x.Id, x.Title, x.Status)).ToListAsync(ct);
        var dependentIds = await db.TaskDependencies.Where(d => d.DependsOnId == taskId).Select(d => d.TaskId).ToListAsync(ct);
        var dependents = await db.Tasks.Where(x => dependentIds.Contains(x.Id)).OrderBy(x => x.Id).Select(x => new DependencyRef(x.Id, x.Title, x.Status)).ToListAsync(ct);
        var subtasks = await db.Tasks.Where(x => x.ParentId == taskId).OrderBy(x => x.Id).Select(x => new DependencyRef(x.Id, x.Title, x.Status)).ToListAsync(ct);

        var timeline = (await db.TaskEvents.AsNoTracking().Where(e => e.TaskId == taskId).OrderBy(e => e.Id).ToListAsync(ct))
            .Select(e => new TimelineEntry(e.Id, e.Kind, e.ActorName ?? e.ActorId ?? e.ActorType.ToString().ToLowerInvariant(), e.FromStatus, e.ToStatus, e.DataJson, e.CreatedAt)).ToList();
        var messages = (await db.Messages.AsNoTracking().Where(m => m.TaskId == taskId).OrderBy(m => m.Id).ToListAsync(ct))
            .Select(m => new MessageRow(m.Id, m.SenderId is { } s ? agents.GetValueOrDefault(s, "?") : m.SenderName ?? "human",
                agents.GetValueOrDefault(m.RecipientId, "?"), m.Body, m.CreatedAt, m.ReadAt is not null)).ToList();
        var turns = (await db.Turns.AsNoTracking().Where(x => x.TaskId == taskId).OrderByDescending(x => x.StartedAt).ToListAsync(ct))
            .Select(x => new TurnRow(x.Id, agents.GetValueOrDefault(x.AgentId, "?"), x.State, x.Attempt, x.StartedAt, x.EndedAt, x.ExitCode, x.Error, x.Log,
                x.InputTokens, x.OutputTokens, x.CostUsd)).ToList();
        var usage = await db.UsageRecords.Where(u => u.TaskId == taskId)
            .Select(u => new { u.InputTokens, u.OutputTokens, u.CostUsd }).ToListAsync(ct);

        var review = await db.Reviews.AsNoTracking().Where(r => r.TaskId == taskId).OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct);
        ReviewRow? reviewRow = null;
        if (review is not null)
        {
            var comments = await db.ReviewComments.Where(c => c.ReviewId == review.Id).OrderBy(c => c.FilePath).ThenBy(c => c.Line).ThenBy(c => c.Id)
                .Select(c => new ReviewCommentRow(c.Id, c.FilePath, c.Line, c.Body, c.Author, c.CreatedAt)).ToListAsync(ct);
            var merge = await db.MergeQueue.AsNoTracking().Where(m => m.TaskId == taskId).OrderByDescending(m => m.Id).FirstOrDefaultAsync(ct);
            reviewRow = new ReviewRow(review.Id, review.State, review.Diff, review.Summary, review.Reviewer, review.RequestedAt, review.DecidedAt, comments,
                review.Body, merge?.State, merge?.Error, merge?.MergedSha);
        }

        return new TaskDetail(card, t.TeamId, team, t.Description, t.Branch, t.WorktreePath, t.FailureReason, t.Attempts, t.MaxAttempts,
            t.CreatedAt, t.StartedAt, t.CompletedAt, deps, dependents, subtasks, timeline, messages, turns, reviewRow,
            usage.Sum(u => u.InputTokens), usage.Sum(u => u.OutputTokens), usage.Sum(u => u.CostUsd));
    }

    public async Task<List<HumanRequestRow>> PendingRequestsAsync(Guid? teamId, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var q = db.HumanRequests.AsNoTracking().Where(h => h.Status == HumanRequestStatus.Pending);
        if (teamId is not null) q = q.Where(h => h.TeamId == teamId);
        var rows = await q.OrderBy(h => h.CreatedAt).ToListAsync(ct);
        var teams = await db.Teams.ToDictionaryAsync(t => t.Id, t => t.Name, ct);
        var agentIds = rows.Where(r => r.AgentId is not null).Select(r => r.AgentId!.Value).ToList();
        var agents = await db.Agents.Where(a => agentIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);
        var taskIds = rows.Where(r => r.TaskId is not null).Select(r => r.TaskId!.Value).ToList();
        var tasks = await db.Tasks.Where(t => taskIds.Contains(t.Id)).ToDictionaryAsync(t => t.Id, t => t.Title, ct);
        return rows.Select(h => new HumanRequestRow(h.Id, h.TeamId, teams.GetValueOrDefault(h.TeamId, "?"),
            h.AgentId is { } a ? agents.GetValueOrDefault(a) : null, h.TaskId, h.TaskId is { } t ? tasks.GetValueOrDefault(t) : null,
            h.Kind, h.Question, ParseOptions(h.OptionsJson), h.CreatedAt)).ToList();
    }

    public static IReadOnlyList<string> ParseOptions(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return [];
        try
        {
            return JsonSerializer.Deserialize<List<string>>(json) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>Costs of every team: today against the limit, per agent and per UTC day (last <paramref name="days"/> days).</summary>
    public async Task<List<TeamCosts>> CostsAsync(Guid? teamId, int days, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var since = Today.AddDays(-(days - 1));
        var teams = await db.Teams.AsNoTracking().Where(t => teamId == null || t.Id == teamId).OrderBy(t => t.CreatedAt).ToListAsync(ct);
        var ids = teams.Select(t => t.Id).ToList();
        var usage = await db.UsageRecords.AsNoTracking().Where(u => ids.Contains(u.TeamId) && u.Day >= since)
            .Select(u => new { u.TeamId, u.AgentId, u.Day, u.CostUsd, u.InputTokens, u.OutputTokens }).ToListAsync(ct);
        var agents = await db.Agents.Where(a => ids.Contains(a.TeamId)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);
        return teams.Select(t =>
        {
            var mine = usage.Where(u => u.TeamId == t.Id).ToList();
            var byAgent = mine.GroupBy(u => u.AgentId)
                .Select(g => new CostLine(agents.GetValueOrDefault(g.Key, "(removed agent)"), g.Sum(x => x.CostUsd), g.Sum(x => x.InputTokens), g.Sum(x => x.OutputTokens)))
                .OrderByDescending(c => c.CostUsd).ToList();
            var byDay = mine.GroupBy(u => u.Day).OrderByDescending(g => g.Key)
                .Select(g => new CostLine(g.Key.ToString("yyyy-MM-dd"), g.Sum(x => x.CostUsd), g.Sum(x => x.InputTokens), g.Sum(x => x.OutputTokens))).ToList();
            return new TeamCosts(t.Id, t.Name, t.DailyCostLimitUsd, mine.Where(u => u.Day == Today).Sum(u => u.CostUsd), byAgent, byDay);
        }).ToList();
    }

    public async Task<TeamSettingsModel?> SettingsAsync(Guid teamId, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.Teams.Where(t => t.Id == teamId).Select(t => new TeamSettingsModel
        {
            DailyCostLimitUsd = t.DailyCostLimitUsd,
            MaxConcurrentAgents = t.MaxConcurrentAgents,
            RequireReview = t.RequireReview,
            MergeStrategy = t.MergeStrategy,
            CheckCommand = t.CheckCommand,
            SetupCommand = t.SetupCommand,
            RequirePlanApproval = t.RequirePlanApproval,
            ManagerPrompt = t.ManagerPrompt,
            EngineerPrompt = t.EngineerPrompt,
        }).FirstOrDefaultAsync(ct);
    }

    public async Task<Guid> DefaultOrgIdAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.Orgs.OrderBy(o => o.CreatedAt).Select(o => o.Id).FirstAsync(ct);
    }
}
