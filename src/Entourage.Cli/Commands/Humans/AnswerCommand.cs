using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Commands.Humans;

/// <summary>entourage answer &lt;id&gt; [answer] — answers a human request; the agent gets it as a new turn.</summary>
public sealed class AnswerCommand : EntourageCommand
{
    private readonly Argument<long> _id = new("id") { Description = "Human request id (from `entourage ask`)." };
    private readonly Argument<string?> _answer = new("answer") { Description = "Your answer (for a choice: one of the options; for an approval: approve or reject). Omitted at a terminal, you are asked.", Arity = ArgumentArity.ZeroOrOne };

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
        var result = await ctx.Client.RespondToHumanRequestAsync(id, new RespondHumanRequest(answer, AnsweredBy: ctx.Env.GetEnv("USER")), ct);
        if (ctx.Json) { ctx.WriteJson(result); return ExitCodes.Ok; }
        ctx.Out.MarkupLine($"Answered #{id}{(result.AgentName is null ? "" : " for " + Styles.Esc(result.AgentName))}; the agent gets it as a new turn.");
        return ExitCodes.Ok;
    }

    /// <summary>Shows the question and asks for the answer: a choice list for choice/approval requests, text otherwise.</summary>
    internal static async Task<string> PromptAsync(CommandContext ctx, HumanRequestDto request, CancellationToken ct)
    {
        ctx.Out.MarkupLine($"[bold]#{request.Id}[/] {Styles.Esc(request.AgentName ?? "an agent")} asks: {Styles.Esc(request.Question)}");
        List<string> options = request.Kind switch
        {
            HumanRequestKind.Approval => ["approve", "reject"],
            _ => [.. request.Options ?? []],
        };
        if (options.Count > 0)
            return await ctx.Out.PromptAsync(new SelectionPrompt<string>().Title("Your answer:").AddChoices(options), ct);
        return await ctx.Out.PromptAsync(new TextPrompt<string>("Your answer:"), ct);
    }
}
