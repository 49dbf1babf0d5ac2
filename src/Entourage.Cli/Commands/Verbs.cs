using System.CommandLine;
using Entourage.Cli.Commands.Agents;
using Entourage.Cli.Commands.Humans;
using Entourage.Cli.Commands.Init;
using Entourage.Cli.Commands.Mcp;
using Entourage.Cli.Commands.Messages;
using Entourage.Cli.Commands.Orgs;
using Entourage.Cli.Commands.Reviews;
using Entourage.Cli.Commands.Run;
using Entourage.Cli.Commands.Runner;
using Entourage.Cli.Commands.Server;
using Entourage.Cli.Commands.Settings;
using Entourage.Cli.Commands.Tasks;
using Entourage.Cli.Commands.Teams;
using Entourage.Cli.Commands.Turns;
using Entourage.Cli.Infrastructure;

namespace Entourage.Cli.Commands;

/// <summary>The command tree, in the order `entourage --help` lists it.</summary>
public static class Verbs
{
    public static IEnumerable<Command> All(CliEnvironment env) =>
    [
        new InitCommand(env),
        new RunCommand(env),
        new ServeCommand(env),
        new RunnerCommand(env),
        new CommandGroup("org", "Orgs: list, create.", new OrgListCommand(env), new OrgCreateCommand(env)),
        new CommandGroup("team", "Teams: create, list, show, update.",
            new TeamCreateCommand(env), new TeamListCommand(env), new TeamShowCommand(env), new TeamUpdateCommand(env)),
        new CommandGroup("agent", "Agents of a team: add, list, show, remove.",
            new AgentAddCommand(env), new AgentListCommand(env), new AgentShowCommand(env), new AgentRemoveCommand(env)),
        new CommandGroup("task", "Tasks: create, list, show, status, assign, events, wait.",
            new TaskCreateCommand(env), new TaskListCommand(env), new TaskShowCommand(env), new TaskStatusCommand(env),
            new TaskAssignCommand(env), new TaskEventsCommand(env), new TaskWaitCommand(env)),
        new BatchCommand(env),
        new CommandGroup("message", "Messages between people and agents: send.", new MessageSendCommand(env)),
        new InboxCommand(env),
        new AskCommand(env),
        new AnswerCommand(env),
        new CommandGroup("review", "Code review of a task: show, approve, request-changes.",
            new ReviewShowCommand(env), ReviewVerdictCommand.Approve(env), ReviewVerdictCommand.RequestChanges(env)),
        new CostsCommand(env),
        new LogsCommand(env),
        new SettingsCommand(env),
        new McpCommand(env),
    ];
}
