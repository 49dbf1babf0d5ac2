using System.CommandLine;
using System.Globalization;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Commands.Messages;

/// <summary>entourage inbox &lt;agent&gt; --team T [--unread] [--mark-read] — what an agent has been told.</summary>
public sealed class InboxCommand : EntourageCommand
{
    private readonly Argument<string> _agent = new("agent") { Description = "Agent name (with --team) or id." };
    private readonly Option<string?> _team = GlobalOptions.Team();
    private readonly Option<bool> _unread = new("--unread") { Description = "Only unread messages." };
    private readonly Option<bool> _markRead = new("--mark-read") { Description = "Mark every unread message read after showing it." };

    public InboxCommand(CliEnvironment env) : base("inbox", "Show an agent's inbox, unread first.", env)
    {
        Arguments.Add(_agent);
        Options.Add(_team);
        Options.Add(_unread);
        Options.Add(_markRead);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var agentId = await Resolve.AgentIdAsync(ctx, ctx.Get(_agent)!, _team, ct);
        var inbox = await ctx.Client.GetInboxAsync(agentId, ctx.Get(_unread), ct);
        if (ctx.Get(_markRead) && inbox.UnreadCount > 0)
            await ctx.Client.MarkReadAsync(agentId, new MarkReadRequest(inbox.Messages.Where(m => m.ReadAt is null).Select(m => m.Id).ToList()), ct);
        if (ctx.Json) { ctx.WriteJson(inbox); return ExitCodes.Ok; }
        ctx.Out.MarkupLine($"{inbox.UnreadCount.ToString(CultureInfo.InvariantCulture)} unread, {inbox.Messages.Count.ToString(CultureInfo.InvariantCulture)} shown.");
        var table = new Table().Border(TableBorder.Rounded).AddColumns("#", "", "From", "Task", "Time", "Message");
        foreach (var m in inbox.Messages)
            table.AddRow(m.Id.ToString(CultureInfo.InvariantCulture), m.ReadAt is null ? "[yellow]●[/]" : " ", Styles.Esc(m.SenderName),
                m.TaskId is { } t ? "#" + t.ToString(CultureInfo.InvariantCulture) : "", Styles.Time(m.CreatedAt), Styles.Esc(m.Body));
        ctx.Out.Write(table);
        return ExitCodes.Ok;
    }
}
