using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;

namespace Entourage.Cli.Commands.Agents;

/// <summary>entourage agent show &lt;agent&gt; — by id, or by name with --team.</summary>
public sealed class AgentShowCommand : EntourageCommand
{
    private readonly Argument<string> _agent = new("agent") { Description = "Agent id, or its name within --team." };
    private readonly Option<string?> _team = GlobalOptions.Team();

    public AgentShowCommand(CliEnvironment env) : base("show", "Show one agent.", env)
    {
        Arguments.Add(_agent);
        Options.Add(_team);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var agent = await Resolve.AgentAsync(ctx, ctx.Get(_agent)!, _team, ct);
        if (ctx.Json) { ctx.WriteJson(agent); return ExitCodes.Ok; }
        ctx.Out.Write(TeamViews.AgentDetails(agent));
        return ExitCodes.Ok;
    }
}
