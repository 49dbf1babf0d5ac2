using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;

namespace Entourage.Cli.Commands.Settings;

/// <summary>
/// entourage settings --team T [--daily-cost-limit USD|none] [--max-concurrent N|none] [...] — shows the team's
/// settings, or changes the ones given (the spec's PATCH /settings/teams/{id}).
/// </summary>
public sealed class SettingsCommand : EntourageCommand
{
    private readonly Option<string?> _team = GlobalOptions.Team();
    private readonly Option<string?> _budget = new("--daily-cost-limit") { Description = "Daily spend cap in USD (UTC day), or \"none\"." };
    private readonly Option<string?> _concurrency = new("--max-concurrent") { Description = "Agents running at once, or \"none\"." };
    private readonly Option<bool?> _requireReview = new("--require-review") { Description = "Tasks need an approved review before they merge (true/false)." };
    private readonly Option<string?> _mergeStrategy = new("--merge-strategy") { Description = "squash, rebase or merge." };
    private readonly Option<string?> _checkCommand = new("--check-command") { Description = "Command that must pass before a merge (e.g. the tests); \"\" clears." };
    private readonly Option<string?> _setupCommand = new("--setup-command") { Description = "Command run in each new worktree; \"\" clears." };
    private readonly Option<bool?> _planApproval = new("--require-plan-approval") { Description = "The manager's task plan waits for your approval (true/false)." };

    public SettingsCommand(CliEnvironment env) : base("settings", "Show or change a team's budget, concurrency and review settings.", env)
    {
        Options.Add(_team);
        Options.Add(_budget);
        Options.Add(_concurrency);
        Options.Add(_requireReview);
        Options.Add(_mergeStrategy);
        Options.Add(_checkCommand);
        Options.Add(_setupCommand);
        Options.Add(_planApproval);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var team = ctx.RequireTeam(_team);
        var patch = new JsonObject();
        if (ctx.Get(_budget) is { } budget) patch["daily_cost_limit_usd"] = Limit<decimal>(budget, "--daily-cost-limit", decimal.TryParse);
        if (ctx.Get(_concurrency) is { } concurrency) patch["max_concurrent_agents"] = Limit<int>(concurrency, "--max-concurrent", int.TryParse);
        if (ctx.Get(_requireReview) is { } review) patch["require_review"] = review;
        if (ctx.Get(_mergeStrategy) is { } strategy) patch["merge_strategy"] = strategy;
        if (ctx.Get(_checkCommand) is { } check) patch["check_command"] = check.Length == 0 ? null : check;
        if (ctx.Get(_setupCommand) is { } setup) patch["setup_command"] = setup.Length == 0 ? null : setup;
        if (ctx.Get(_planApproval) is { } plan) patch["require_plan_approval"] = plan;

        var settings = patch.Count == 0
            ? await ctx.Client.GetTeamSettingsAsync(team, ct)
            : await ctx.Client.UpdateTeamSettingsAsync(team, patch, ct);
        if (ctx.Json) { ctx.WriteJson(settings); return ExitCodes.Ok; }
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow("[dim]daily cost limit[/]", settings.DailyCostLimitUsd is { } d ? Styles.Money(d) : "unlimited");
        grid.AddRow("[dim]max concurrent agents[/]", settings.MaxConcurrentAgents?.ToString(CultureInfo.InvariantCulture) ?? "unlimited");
        grid.AddRow("[dim]require review[/]", settings.RequireReview ? "yes" : "no");
        grid.AddRow("[dim]merge strategy[/]", Styles.Esc(settings.MergeStrategy));
        grid.AddRow("[dim]check command[/]", Styles.Esc(settings.CheckCommand ?? "–"));
        grid.AddRow("[dim]setup command[/]", Styles.Esc(settings.SetupCommand ?? "–"));
        grid.AddRow("[dim]require plan approval[/]", settings.RequirePlanApproval ? "yes" : "no");
        if (patch.Count > 0) ctx.Out.MarkupLine($"Updated {string.Join(", ", patch.Select(p => p.Key))}.");
        ctx.Out.Write(grid);
        return ExitCodes.Ok;
    }

    private delegate bool TryParse<T>(string s, NumberStyles style, IFormatProvider provider, out T value);

    private static JsonNode? Limit<T>(string text, string option, TryParse<T> parse) =>
        text.Equals("none", StringComparison.OrdinalIgnoreCase) ? null
        : parse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var value) ? JsonValue.Create(value)
        : throw CliException.Usage($"{option} takes a number or \"none\", not '{text}'.");
}
