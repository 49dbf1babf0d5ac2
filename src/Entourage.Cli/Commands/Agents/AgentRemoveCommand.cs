using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Spectre.Console;

namespace Entourage.Cli.Commands.Agents;

/// <summary>entourage agent remove &lt;agent&gt; [--yes] — asks first only when a person is at the terminal.</summary>
public sealed class AgentRemoveCommand : EntourageCommand
{
    private readonly Argument<string> _agent = new("agent") { Description = "Agent id, or its name within --team." };
    private readonly Option<string?> _team = GlobalOptions.Team();
    private readonly Option<bool> _yes = new("--yes", "-y") { Description = "Do not ask for confirmation." };

    public AgentRemoveCommand(CliEnvironment env) : base("remove", "Remove an agent from its team (its token stops working).", env)
    {
        Aliases.Add("rm");
        Arguments.Add(_agent);
        Options.Add(_team);
        Options.Add(_yes);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var agent = await Resolve.AgentAsync(ctx, ctx.Get(_agent)!, _team, ct);
        // Scripts (stdin not a terminal) and --json never get a prompt.
        if (!ctx.Get(_yes) && !ctx.Json && ctx.Env.InputIsTerminal &&
            !await ctx.Out.ConfirmAsync($"Remove agent [bold]{Styles.Esc(agent.Name)}[/]?", defaultValue: false, ct))
        {
            ctx.Out.MarkupLine("Nothing removed.");
            return ExitCodes.Ok;
        }
        await ctx.Client.DeleteAgentAsync(agent.Id, ct);
        if (ctx.Json) { ctx.WriteJson(new { removed = agent.Id, name = agent.Name }); return ExitCodes.Ok; }
        ctx.Out.MarkupLine($"Removed agent [bold]{Styles.Esc(agent.Name)}[/] [dim]{agent.Id}[/]");
        return ExitCodes.Ok;
    }
}
