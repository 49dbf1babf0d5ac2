using System.CommandLine;
using System.Text.Json.Nodes;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;

namespace Entourage.Cli.Commands.Humans;

/// <summary>
/// entourage ask [--team T] [--all] — the questions agents asked you (ask_human), oldest first. At a terminal,
/// --interactive walks through them and sends each answer.
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
        var team = ctx.Get(_team) ?? ctx.Env.GetEnv("ENTOURAGE_TEAM") ?? ctx.Config.Team;
        var teamId = team is null ? null : (await ctx.Client.GetTeamAsync(team, ct)).Id.ToString();
        var requests = await ctx.Client.ListHumanRequestsAsync(teamId, ctx.Get(_all) ? null : "pending", ct);
        if (ctx.Json) { ctx.WriteJson(requests); return ExitCodes.Ok; }
        if (requests.Count == 0) { ctx.Out.MarkupLine("No questions waiting for you."); return ExitCodes.Ok; }

        var table = new Table().Border(TableBorder.Rounded).AddColumns("#", "From", "Task", "Kind", "Question", "Options", "Status");
        foreach (var r in requests.OfType<JsonObject>())
            table.AddRow(Str(r, "id"), Styles.Esc(Str(r, "agent_name") is { Length: > 0 } n ? n : Str(r, "agent_id")),
                r["task_id"] is { } t ? "#" + t : "", Styles.Esc(Str(r, "kind")), Styles.Esc(Str(r, "question")),
                Styles.Esc(ChoicesOf(r) is { Count: > 0 } o ? string.Join(" | ", o) : ""), Styles.Esc(Str(r, "status")));
        ctx.Out.Write(table);

        if (!ctx.Get(_interactive)) { ctx.Out.MarkupLine("Answer with [bold]entourage answer <id> \"...\"[/]."); return ExitCodes.Ok; }
        if (!ctx.Env.InputIsTerminal) throw CliException.Usage("--interactive needs a terminal; use `entourage answer <id> \"...\"` in scripts.");
        foreach (var r in requests.OfType<JsonObject>().Where(r => Str(r, "status") == "pending"))
        {
            var answer = await AnswerCommand.PromptAsync(ctx, r, ct);
            if (string.IsNullOrWhiteSpace(answer)) continue;
            await ctx.Client.RespondToHumanRequestAsync(long.Parse(Str(r, "id"), System.Globalization.CultureInfo.InvariantCulture), answer, ctx.Env.GetEnv("USER"), ct);
            ctx.Out.MarkupLine($"Answered #{Styles.Esc(Str(r, "id"))}.");
        }
        return ExitCodes.Ok;
    }

    internal static string Str(JsonObject o, string key) => o[key]?.ToString() ?? "";

    internal static List<string> ChoicesOf(JsonObject o) =>
        o["options"] is JsonArray a ? a.Select(x => x?.ToString() ?? "").Where(x => x.Length > 0).ToList() : [];
}
