using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Client.Mcp;

namespace Entourage.Cli.Commands.Mcp;

/// <summary>
/// entourage mcp — the stdio MCP bridge for clients that only spawn processes: JSON-RPC on stdin/stdout, forwarded
/// to the server's /mcp with the agent's token. Nothing else may be written to stdout while it runs.
/// </summary>
public sealed class McpCommand : EntourageCommand
{
    private readonly Option<string?> _agent = new("--agent") { Description = "Agent id to act as, when the token is an operator API key (agent tokens name themselves)." };

    public McpCommand(CliEnvironment env) : base("mcp", "Serve the Entourage MCP tools over stdio (token: $ENTOURAGE_AGENT_TOKEN or $ENTOURAGE_TOKEN).", env)
    {
        Options.Add(_agent);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        // Agent processes get ENTOURAGE_AGENT_TOKEN from the dispatcher; people use their own token.
        var token = ctx.Env.GetEnv("ENTOURAGE_AGENT_TOKEN") is { Length: > 0 } agentToken ? agentToken : ctx.Token;
        if (string.IsNullOrEmpty(token))
            throw CliException.Usage("entourage mcp needs a token: set ENTOURAGE_AGENT_TOKEN to the agent's token (shown when the agent was created), or ENTOURAGE_TOKEN to an API key together with --agent.");
        await using var stdin = ctx.Env.OpenStdin();
        await using var stdout = ctx.Env.OpenStdout();
        try
        {
            await StdioBridge.RunAsync(ctx.ServerUrl.AbsoluteUri, token, stdin, stdout, ct, ctx.Get(_agent));
        }
        catch (HttpRequestException ex) when (ex.StatusCode is null)
        {
            throw new CliException(ExitCodes.Unreachable, $"No Entourage server answered at {ctx.ServerUrl}: {ex.Message}");
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl-C or the client closing us: a normal end for a bridge.
        }
        return ExitCodes.Ok;
    }
}
