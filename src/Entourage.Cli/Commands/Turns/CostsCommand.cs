using System.Globalization;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;

namespace Entourage.Cli.Commands.Turns;

/// <summary>entourage costs --team T — spend by agent, task and day, and today's spend against the daily limit.</summary>
public sealed class CostsCommand : EntourageCommand
{
    private readonly System.CommandLine.Option<string?> _team = GlobalOptions.Team();

    public CostsCommand(CliEnvironment env) : base("costs", "Show what a team's agents have spent, by agent, task and day.", env)
    {
        Options.Add(_team);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var costs = await ctx.Client.GetTeamCostsAsync(ctx.RequireTeam(_team), ct);
        if (ctx.Json) { ctx.WriteJson(costs); return ExitCodes.Ok; }
        static string Usd(double v) => Styles.Money((decimal)v);
        static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

        ctx.Out.MarkupLine($"Total {Usd(costs.TotalUsd)} ({costs.From:yyyy-MM-dd} – {costs.To:yyyy-MM-dd}); today {Usd(costs.SpentTodayUsd)}" +
            (costs.DailyCostLimitUsd is { } limit ? $" of {Usd(limit)} a day" : " (no daily limit)") +
            (costs.OverBudget ? "  [red]over budget: no new turns today[/]" : ""));
        var byAgent = new Table().Border(TableBorder.Rounded).Title("by agent").AddColumns("Agent", "Turns", "Tokens in", "Tokens out", "Cost");
        foreach (var a in costs.ByAgent)
            byAgent.AddRow(Styles.Esc(a.AgentName ?? a.AgentId.ToString()), a.Turns.ToString(CultureInfo.InvariantCulture), N(a.InputTokens), N(a.OutputTokens), Usd(a.CostUsd));
        var byTask = new Table().Border(TableBorder.Rounded).Title("by task").AddColumns("#", "Task", "Tokens in", "Tokens out", "Cost");
        foreach (var t in costs.ByTask)
            byTask.AddRow(t.TaskId?.ToString(CultureInfo.InvariantCulture) ?? "–", Styles.Esc(t.Title ?? "(no task)"), N(t.InputTokens), N(t.OutputTokens), Usd(t.CostUsd));
        var byDay = new Table().Border(TableBorder.Rounded).Title("by day (UTC)").AddColumns("Day", "Tokens in", "Tokens out", "Cost");
        foreach (var d in costs.ByDay)
            byDay.AddRow(d.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), N(d.InputTokens), N(d.OutputTokens), Usd(d.CostUsd));
        ctx.Out.Write(byAgent);
        ctx.Out.Write(byTask);
        ctx.Out.Write(byDay);
        return ExitCodes.Ok;
    }
}
