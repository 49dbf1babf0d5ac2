using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Commands.Messages;

/// <summary>entourage message send &lt;recipient&gt; &lt;body&gt; --team T [--from agent] [--task id] — wakes the recipient.</summary>
public sealed class MessageSendCommand : EntourageCommand
{
    private readonly Argument<string> _to = new("recipient") { Description = "Agent name or id." };
    private readonly Argument<string> _body = new("body") { Description = "The message; - reads it from stdin." };
    private readonly Option<string?> _team = GlobalOptions.Team();
    private readonly Option<string?> _from = new("--from") { Description = "Send as this agent (name or id); default: you, a person." };
    private readonly Option<string?> _as = new("--name") { Description = "Your name as the sender (default: $USER)." };
    private readonly Option<long?> _task = new("--task") { Description = "Link the message to a task (it shows in its timeline)." };

    public MessageSendCommand(CliEnvironment env) : base("send", "Send a message to an agent; it gets a turn to read it.", env)
    {
        Arguments.Add(_to);
        Arguments.Add(_body);
        Options.Add(_team);
        Options.Add(_from);
        Options.Add(_as);
        Options.Add(_task);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var body = ctx.Get(_body)!;
        if (body == "-")
        {
            using var reader = new StreamReader(ctx.Env.OpenStdin());
            body = await reader.ReadToEndAsync(ct);
        }
        var from = ctx.Get(_from);
        var message = await ctx.Client.SendMessageAsync(ctx.RequireTeam(_team), new SendMessageRequest(
            from, ctx.Get(_to), body, ctx.Get(_task), from is null ? ctx.Get(_as) ?? ctx.Env.GetEnv("USER") : null), ct);
        if (ctx.Json) { ctx.WriteJson(message); return ExitCodes.Ok; }
        ctx.Out.MarkupLine($"Message [bold]#{message.Id}[/] {Styles.Esc(message.SenderName)} → [bold]{Styles.Esc(message.RecipientName)}[/]{(message.TaskId is { } t ? $" (task #{t})" : "")}");
        return ExitCodes.Ok;
    }
}
