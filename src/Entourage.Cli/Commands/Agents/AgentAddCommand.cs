using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;
using Spectre.Console;

namespace Entourage.Cli.Commands.Agents;

/// <summary>entourage agent add &lt;name&gt; --team T [--role] [--model] [--adapter] [--description] [--command] [--config]</summary>
public sealed class AgentAddCommand : EntourageCommand
{
    private readonly Argument<string> _name = new("name") { Description = "Agent name, unique in the team (e.g. eng-backend)." };
    private readonly Option<string?> _team = GlobalOptions.Team();
    private readonly Option<AgentRole?> _role = new("--role", "-r") { Description = "engineer (default) or reviewer; the team's one manager comes with the team.", CustomParser = EnumOption.Parse<AgentRole> };
    private readonly Option<string?> _model = new("--model", "-m") { Description = "Model the agent's CLI uses (e.g. claude-sonnet-4-20250514)." };
    private readonly Option<string?> _adapter = new("--adapter", "-a") { Description = "Agent CLI: claude-code (default), codex, gemini, aider, command." };
    private readonly Option<string?> _description = new("--description", "-d") { Description = "What the agent is good at; the manager reads it to assign work." };
    private readonly Option<string?> _command = new("--command") { Description = "Executable for the command adapter (or a custom path to the CLI)." };
    private readonly Option<string?> _config = new("--config") { Description = "Extra config as a JSON object, merged under --description/--command." };

    public AgentAddCommand(CliEnvironment env) : base("add", "Add an agent to a team.", env)
    {
        Arguments.Add(_name);
        Options.Add(_team);
        Options.Add(_role);
        Options.Add(_model);
        Options.Add(_adapter);
        Options.Add(_description);
        Options.Add(_command);
        Options.Add(_config);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var config = ParseConfig(ctx.Get(_config));
        if (ctx.Get(_description) is { } description) config["description"] = description;
        if (ctx.Get(_command) is { } command) config["command"] = command;
        var team = ctx.RequireTeam(_team);
        var agent = await ctx.Client.CreateAgentAsync(team,
            new CreateAgentRequest(ctx.Get(_name), ctx.Get(_role), ctx.Get(_model), ctx.Get(_adapter), config), ct);
        if (ctx.Json) { ctx.WriteJson(agent); return ExitCodes.Ok; }
        ctx.Out.MarkupLine($"Added [bold]{Styles.Esc(agent.Name)}[/] ({agent.Role.Snake()}, {Styles.Esc(agent.Adapter)}) to team {Styles.Esc(team)} [dim]{agent.Id}[/]");
        if (agent.Token is { } token) ctx.Out.MarkupLine($"Agent token (shown once): [dim]{Styles.Esc(token)}[/]");
        return ExitCodes.Ok;
    }

    internal static JsonObject ParseConfig(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return [];
        try
        {
            return JsonNode.Parse(json) as JsonObject
                ?? throw CliException.Usage("--config must be a JSON object, e.g. '{\"description\": \"Backend specialist\"}'.");
        }
        catch (JsonException ex)
        {
            throw CliException.Usage($"--config is not valid JSON: {ex.Message}");
        }
    }
}
