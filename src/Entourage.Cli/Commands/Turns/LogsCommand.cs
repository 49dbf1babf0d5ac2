using System.CommandLine;
using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Http;

namespace Entourage.Cli.Commands.Turns;

/// <summary>
/// entourage logs [-f] &lt;turn|agent&gt; — a turn's output (the agent CLI's stream), or the latest turn of an agent;
/// -f follows it live over server-sent events until the turn ends.
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
        var turnId = Guid.Parse(turn["id"]!.ToString());
        if (!ctx.Get(_follow))
        {
            if (ctx.Json) { ctx.WriteJson(turn); return ExitCodes.Ok; }
            ctx.Env.Error.MarkupLine($"[dim]turn {turnId} · {Styles.Esc(turn["state"]?.ToString())} · started {Styles.Esc(turn["started_at"]?.ToString())}[/]");
            ctx.Env.OutWriter.Write(turn["log"]?.ToString() ?? "");
            await ctx.Env.OutWriter.FlushAsync(ct);
            return ExitCodes.Ok;
        }

        // Follow: every SSE "data" is a chunk of the log; the stream closes when the turn ends.
        using var response = await ctx.Client.OpenStreamAsync($"api/v1/turns/{turnId}/log/stream", ct);
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(ct))
        {
            if (ctx.Json) ctx.Env.OutWriter.WriteLine(new JsonObject { ["event"] = item.EventType, ["data"] = item.Data }.ToJsonString());
            else ctx.Env.OutWriter.WriteLine(item.Data);
            await ctx.Env.OutWriter.FlushAsync(ct);
        }
        return ExitCodes.Ok;
    }

    private async Task<JsonObject> FindTurnAsync(CommandContext ctx, string target, CancellationToken ct)
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
        var turns = await ctx.Client.ListTurnsAsync(agent.Id, ct);
        var latest = turns.OfType<JsonObject>().MaxBy(t => t["started_at"]?.ToString() ?? "")
            ?? throw CliException.NotFound($"Agent {agent.Name} has not run a turn yet.");
        // The list may carry summaries only; the turn itself has the log.
        return await ctx.Client.GetTurnAsync(Guid.Parse(latest["id"]!.ToString()), ct);
    }
}
