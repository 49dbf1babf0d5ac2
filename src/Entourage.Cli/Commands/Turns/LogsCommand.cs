using System.CommandLine;
using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client;
using Entourage.Client.Contracts;
using Entourage.Client.Http;

namespace Entourage.Cli.Commands.Turns;

/// <summary>
/// entourage logs [-f] &lt;turn|agent&gt; — a turn's output (the agent CLI's stream), or the latest turn of an agent;
/// -f follows it live over server-sent events until the turn ends (exit 1 if the turn did not succeed).
/// </summary>
public sealed class LogsCommand : EntourageCommand
{
    private readonly Argument<string> _target = new("turn-or-agent") { Description = "Turn id, agent id, or agent name (with --team)." };
    private readonly Option<string?> _team = GlobalOptions.Team();
    private readonly Option<bool> _follow = new("--follow", "-f") { Description = "Keep streaming while the turn runs." };

    public LogsCommand(CliEnvironment env) : base("logs", "Show (or follow) the log of an agent turn.", env)
    {
        Arguments.Add(_target);
        Options.Add(_team);
        Options.Add(_follow);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var turn = await FindTurnAsync(ctx, ctx.Get(_target)!, ct);
        if (!ctx.Get(_follow))
        {
            if (ctx.Json) { ctx.WriteJson(turn); return ExitCodes.Ok; }
            ctx.Env.Error.MarkupLine($"[dim]turn {turn.Id} · {turn.State.Snake()}{(turn.TaskId is { } t ? $" · task #{t}" : "")} · started {Styles.Time(turn.StartedAt)}[/]");
            ctx.Env.OutWriter.Write(turn.Log ?? "");
            if (turn.Log is { Length: > 0 } log && !log.EndsWith('\n')) ctx.Env.OutWriter.WriteLine();
            await ctx.Env.OutWriter.FlushAsync(ct);
            return ExitCodes.Ok;
        }

        // "log" events carry new output; the final "end" event carries the outcome, then the stream closes.
        using var response = await ctx.Client.OpenStreamAsync(EntourageClient.TurnLogStreamPath(turn.Id), ct);
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var exit = ExitCodes.Ok;
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(ct))
        {
            if (ctx.Json) ctx.Env.OutWriter.WriteLine(new JsonObject { ["event"] = item.EventType, ["data"] = item.Data }.ToJsonString());
            else if (item.EventType == "end")
            {
                var end = JsonNode.Parse(item.Data) as JsonObject;
                ctx.Env.Error.MarkupLine($"[dim]turn ended: {Styles.Esc(end?["state"]?.ToString())}, exit code {Styles.Esc(end?["exit_code"]?.ToString() ?? "–")}[/]");
            }
            else ctx.Env.OutWriter.WriteLine(item.Data);
            if (item.EventType == "end" && (JsonNode.Parse(item.Data) as JsonObject)?["state"]?.ToString() != "succeeded") exit = ExitCodes.Error;
            await ctx.Env.OutWriter.FlushAsync(ct);
        }
        return exit;
    }

    private async Task<TurnDto> FindTurnAsync(CommandContext ctx, string target, CancellationToken ct)
    {
        if (Guid.TryParse(target, out var id))
        {
            try { return await ctx.Client.GetTurnAsync(id, ct); }
            catch (EntourageApiException ex) when (ex.Status == HttpStatusCode.NotFound)
            {
                // Not a turn: perhaps an agent id; fall through.
            }
        }
        var agent = await Resolve.AgentAsync(ctx, target, _team, ct);
        var latest = (await ctx.Client.ListTurnsAsync(agent.Id, ct)).MaxBy(t => t.StartedAt)
            ?? throw CliException.NotFound($"Agent {agent.Name} has not run a turn yet.");
        // The list carries no logs; the turn itself does.
        return await ctx.Client.GetTurnAsync(latest.Id, ct);
    }
}
