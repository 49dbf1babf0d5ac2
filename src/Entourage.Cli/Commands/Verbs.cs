using System.CommandLine;
using Entourage.Cli.Commands.Agents;
using Entourage.Cli.Commands.Init;
using Entourage.Cli.Commands.Mcp;
using Entourage.Cli.Commands.Orgs;
using Entourage.Cli.Commands.Server;
using Entourage.Cli.Commands.Teams;
using Entourage.Cli.Infrastructure;

namespace Entourage.Cli.Commands;

/// <summary>The command tree, in the order `entourage --help` lists it.</summary>
public static class Verbs
{
    public static IEnumerable<Command> All(CliEnvironment env) =>
    [
        new InitCommand(env),
        new ServeCommand(env),
        new CommandGroup("org", "Orgs: list, create.", new OrgListCommand(env), new OrgCreateCommand(env)),
        new CommandGroup("team", "Teams: create, list, show, update.",
            new TeamCreateCommand(env), new TeamListCommand(env), new TeamShowCommand(env), new TeamUpdateCommand(env)),
        new CommandGroup("agent", "Agents of a team: add, list, show, remove.",
            new AgentAddCommand(env), new AgentListCommand(env), new AgentShowCommand(env), new AgentRemoveCommand(env)),
        new McpCommand(env),
    ];
}
