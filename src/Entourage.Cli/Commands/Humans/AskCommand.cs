using System.CommandLine;
using System.Globalization;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Commands.Humans;

/// <summary>
/// entourage ask [--team T] [--all] [-i] — the questions agents asked you (ask_human), oldest first. At a
/// terminal, -i walks through the pending ones and sends each answer.
/// </summary>
public sealed class AskCommand : EntourageCommand
{
    private readonly Option<string?> _team = GlobalOptions.Team();
    private readonly Option<bool> _all = new("--all") { Description = "Include answered, expired and cancelled requests." };
    private readonly Option<bool> _interactive = new("--interactive", "-i") { Description = "Answer each pending question in turn (needs a terminal)." };

    public AskCommand(CliEnvironment env) : base("ask", "List what agents are asking you (human requests); answer with `entourage answer`.", env)
    {
        Options.Add(_team);
        Options.Add(_all);
        Options.Add(_interactive);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        // Without a team: every team's questions (the server lists across teams).
        var team = ctx.Get(_team) ?? ctx.Env.GetEnv("ENTOURAGE_TEAM") ?? ctx.Config.Team;
        var requests = await ctx.Client.ListHumanRequestsAsync(team, ctx.Get(_all) ? null : "pending", ct);
        if (ctx.Json) { ctx.WriteJson(requests); return ExitCodes.Ok; }
        if (requests.Count == 0) { ctx.Out.MarkupLine("No questions waiting for you."); return ExitCodes.Ok; }

        var table = new Table().Border(TableBorder.Rounded).AddColumns("#", "From", "Task", "Kind", "Question", "Options", "Status", "Asked");
        foreach (var r in requests)
            table.AddRow(r.Id.ToString(CultureInfo.InvariantCulture), Styles.Esc(r.AgentName ?? "–"),
                r.TaskId is { } t ? "#" + t.ToString(CultureInfo.InvariantCulture) : "", r.Kind.Snake(), Styles.Esc(r.Question),
                Styles.Esc(string.Join(" | ", r.Options ?? [])), r.Status.Snake() + (r.Answer is null ? "" : $" [dim]{Styles.Esc(r.Answer)}[/]"),
                Styles.Time(r.CreatedAt));
        ctx.Out.Write(table);

        if (!ctx.Get(_interactive)) { ctx.Out.MarkupLine("Answer with [bold]entourage answer <id> \"...\"[/]."); return ExitCodes.Ok; }
        if (!ctx.Env.InputIsTerminal) throw CliException.Usage("--interactive needs a terminal; use `entourage answer <id> \"...\"` in scripts.");
        foreach (var r in requests.Where(r => r.Status == HumanRequestStatus.Pending))
        {
            var answer = await AnswerCommand.PromptAsync(ctx, r, ct);
            if (string.IsNullOrWhiteSpace(answer)) continue;
            await ctx.Client.RespondToHumanRequestAsync(r.Id, new RespondHumanRequest(answer, AnsweredBy: ctx.Env.GetEnv("USER")), ct);
            ctx.Out.MarkupLine($"Answered #{r.Id}.");
        }
        return ExitCodes.Ok;
    }
}
