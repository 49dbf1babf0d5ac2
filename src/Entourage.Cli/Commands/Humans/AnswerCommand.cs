using System.CommandLine;
using System.Text.Json.Nodes;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;

namespace Entourage.Cli.Commands.Humans;

/// <summary>entourage answer &lt;id&gt; [answer] — answers a human request; the agent gets it as a new turn.</summary>
public sealed class AnswerCommand : EntourageCommand
{
    private readonly Argument<long> _id = new("id") { Description = "Human request id (from `entourage ask`)." };
    private readonly Argument<string?> _answer = new("answer") { Description = "Your answer; omitted at a terminal, you are asked (with the choices, if any).", Arity = ArgumentArity.ZeroOrOne };

    public AnswerCommand(CliEnvironment env) : base("answer", "Answer a question an agent asked.", env)
    {
        Arguments.Add(_id);
        Arguments.Add(_answer);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var id = ctx.Get(_id);
        var answer = ctx.Get(_answer);
        if (string.IsNullOrWhiteSpace(answer))
        {
            if (!ctx.Env.InputIsTerminal || ctx.Json)
                throw CliException.Usage("Give the answer as an argument: entourage answer <id> \"...\" (no prompts without a terminal).");
            answer = await PromptAsync(ctx, await ctx.Client.GetHumanRequestAsync(id, ct), ct);
        }
        var result = await ctx.Client.RespondToHumanRequestAsync(id, answer, ctx.Env.GetEnv("USER"), ct);
        if (ctx.Json) { ctx.WriteJson(result); return ExitCodes.Ok; }
        ctx.Out.MarkupLine($"Answered #{id}; the agent gets it as a new turn.");
        return ExitCodes.Ok;
    }

    /// <summary>Shows the question and asks for the answer: a choice list for choice/approval requests, text otherwise.</summary>
    internal static async Task<string> PromptAsync(CommandContext ctx, JsonObject request, CancellationToken ct)
    {
        ctx.Out.MarkupLine($"[bold]#{Styles.Esc(AskCommand.Str(request, "id"))}[/] {Styles.Esc(AskCommand.Str(request, "question"))}");
        var options = AskCommand.ChoicesOf(request);
        if (options.Count == 0 && AskCommand.Str(request, "kind") == "approval") options = ["approve", "reject"];
        if (options.Count > 0)
            return await ctx.Out.PromptAsync(new SelectionPrompt<string>().Title("Your answer:").AddChoices(options), ct);
        return await ctx.Out.PromptAsync(new TextPrompt<string>("Your answer:"), ct);
    }
}
