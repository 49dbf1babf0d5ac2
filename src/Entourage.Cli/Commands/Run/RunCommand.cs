using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Commands.Run;

/// <summary>
/// entourage run "&lt;feature&gt;" --team T — submits the feature as a top-level task (the manager gets it), then
/// shows its plan filling in and moving until the feature is done or failed. Ctrl-C detaches; the work goes on
/// (reattach with --attach). At a terminal the view redraws in place; piped or with --json it prints one line
/// (or JSON object) per change.
/// </summary>
public sealed class RunCommand : EntourageCommand
{
    private readonly Argument<string?> _feature = new("feature") { Description = "The feature, in a sentence (the manager breaks it down).", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<string?> _team = GlobalOptions.Team();
    private readonly Option<string?> _description = new("--description", "-d") { Description = "Details and acceptance criteria for the manager." };
    private readonly Option<string?> _priority = new("--priority", "-p") { Description = "low, medium, high (default), critical." };
    private readonly Option<long?> _attach = new("--attach") { Description = "Watch an already submitted feature task instead of creating one." };
    private readonly Option<bool> _detach = new("--no-watch") { Description = "Submit and return at once." };

    /// <summary>How long the view waits, once the feature is finished, for the turns still on it to end (costs).</summary>
    public static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(20);

    public RunCommand(CliEnvironment env) : base("run", "Give a team a feature and watch it land (Ctrl-C detaches).", env)
    {
        Arguments.Add(_feature);
        Options.Add(_team);
        Options.Add(_description);
        Options.Add(_priority);
        Options.Add(_attach);
        Options.Add(_detach);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var team = await ctx.Client.GetTeamAsync(ctx.RequireTeam(_team), ct);
        WarnIfManagerOffline(ctx, team);
        TaskDto feature;
        if (ctx.Get(_attach) is { } attach)
        {
            feature = await ctx.Client.GetTaskAsync(attach, ct);
            if (feature.TeamId != team.Id) throw CliException.Usage($"Task #{attach} belongs to another team.");
        }
        else
        {
            var title = ctx.Get(_feature);
            if (string.IsNullOrWhiteSpace(title)) throw CliException.Usage("Say what to build: entourage run \"Add a user profile page\" --team <slug> (or --attach <task id>).");
            // Not cancellable: a Ctrl-C during submission must still report the feature it created.
            feature = await ctx.Client.CreateTaskAsync(team.Id.ToString(), new CreateTaskRequest(
                title, ctx.Get(_description), ctx.Get(_priority) ?? "high", "feature"), CancellationToken.None);
        }

        var interactive = !ctx.Json && ctx.Out.Profile.Capabilities.Interactive && ctx.Out.Profile.Capabilities.Ansi;
        if (ctx.Json) ctx.Env.OutWriter.WriteLine(Line.Json("submitted", feature));
        else ctx.Out.MarkupLine($"Feature [bold]#{feature.Id}[/] {Styles.Esc(feature.Title)} → team [bold]{Styles.Esc(team.Slug)}[/] (manager: {Styles.Esc(team.Manager?.Name ?? "?")})");
        if (ctx.Get(_detach)) return ExitCodes.Ok;

        var reader = new FeatureReader(ctx.Client, team.Id.ToString(), feature.Id);
        await using var signal = new ChangeSignal(ctx.Client, team.Id);
        var started = ctx.Env.Clock.GetUtcNow();
        FeatureSnapshot? last = null;
        DateTimeOffset? finishedAt = null;
        // Finished, and either no turn is still running on it or those turns took longer than SettleTimeout.
        bool Settled(FeatureSnapshot? s)
        {
            if (s is null || !s.Finished) return false;
            finishedAt ??= ctx.Env.Clock.GetUtcNow();
            return !s.TurnsStillRunning || ctx.Env.Clock.GetUtcNow() - finishedAt >= SettleTimeout;
        }
        try
        {
            if (interactive)
            {
                var first = await reader.ReadAsync(ct);
                last = first;
                await ctx.Out.Live(FeatureBoard.Render(first, TimeSpan.Zero, signal.Mode)).AutoClear(false).StartAsync(async live =>
                {
                    while (!Settled(last))
                    {
                        await signal.WaitAsync(ct);
                        last = await reader.ReadAsync(ct);
                        live.UpdateTarget(FeatureBoard.Render(last, ctx.Env.Clock.GetUtcNow() - started, signal.Mode));
                        live.Refresh();
                    }
                });
            }
            else
            {
                while (!Settled(last))
                {
                    if (last is not null) await signal.WaitAsync(ct);
                    var next = await reader.ReadAsync(ct);
                    foreach (var line in Line.Changes(last, next, ctx.Json)) ctx.Env.OutWriter.WriteLine(line);
                    await ctx.Env.OutWriter.FlushAsync(ct);
                    last = next;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl-C: leave the work running; say how to come back.
            ctx.Env.Error.MarkupLine($"Detached. The team keeps working; watch again with [bold]entourage run --attach {feature.Id} --team {Styles.Esc(team.Slug)}[/].");
            return ExitCodes.Ok;
        }

        // Settled(last) held, so last was read.
        ArgumentNullException.ThrowIfNull(last);
        if (ctx.Json) ctx.Env.OutWriter.WriteLine(Line.Json("finished", last.Feature));
        else if (!interactive) ctx.Out.Write(FeatureBoard.Render(last, ctx.Env.Clock.GetUtcNow() - started, signal.Mode));
        return last.Feature.Status == TaskState.Done ? ExitCodes.Ok : ExitCodes.Error;
    }

    // The feature goes to the manager; while it is offline nothing starts, and the submission alone looks like success.
    private static void WarnIfManagerOffline(CommandContext ctx, TeamDto team)
    {
        if (team.Manager is not { Status: AgentStatus.Offline } manager) return;
        ctx.Env.Error.MarkupLine($"[yellow]warning:[/] the team's manager ({Styles.Esc(manager.Name)}) is offline, so nothing will start until it is back.");
        if (!string.IsNullOrWhiteSpace(manager.StatusReason)) ctx.Env.Error.MarkupLine($"  {Styles.Esc(manager.StatusReason)}");
        ctx.Env.Error.MarkupLine($"  Check it with [bold]entourage agent show {Styles.Esc(manager.Name)} --team {Styles.Esc(team.Slug)}[/].");
    }
}
