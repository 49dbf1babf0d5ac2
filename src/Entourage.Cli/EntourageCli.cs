using System.CommandLine;
using Entourage.Cli.Commands;
using Entourage.Cli.Infrastructure;
using Spectre.Console;

namespace Entourage.Cli;

/// <summary>Builds the command tree and runs one command line. Program.cs and the tests both come through here.</summary>
public static class EntourageCli
{
    public static RootCommand BuildRoot(CliEnvironment env)
    {
        var root = new RootCommand(
            "entourage: run a team of AI coding agents on a git repository.\n" +
            "Server: --url, $ENTOURAGE_URL or \"url\" in the config file (default http://localhost:8000). Token: $ENTOURAGE_TOKEN or \"token\".\n" +
            "Team: --team, $ENTOURAGE_TEAM or \"team\". Config file: ~/.config/entourage/config.json ($ENTOURAGE_CONFIG to move it).\n" +
            "Never prompts when stdin is not a terminal. Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict, 5 server unreachable, 130 Ctrl-C.");
        root.Options.Add(GlobalOptions.Url);
        root.Options.Add(GlobalOptions.Json);
        foreach (var command in Verbs.All(env)) root.Subcommands.Add(command);
        return root;
    }

    public static async Task<int> RunAsync(string[] args, CliEnvironment env, CancellationToken ct = default)
    {
        var root = BuildRoot(env);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                env.Error.MarkupLine($"[red]error:[/] {Markup.Escape(error.Message)}");
            var path = string.Join(' ', parse.CommandResult.Command is RootCommand ? [] : CommandPath(parse.CommandResult.Command, root));
            env.Error.MarkupLine($"Run [bold]entourage {Markup.Escape(path)}{(path.Length > 0 ? " " : "")}--help[/] for usage.");
            return ExitCodes.Usage;
        }
        var invocation = new InvocationConfiguration
        {
            Output = env.OutWriter,
            Error = env.Error.Profile.Out.Writer,
            // Ctrl-C cancels the command's token; give it time to detach cleanly before the process is ended.
            ProcessTerminationTimeout = TimeSpan.FromSeconds(5),
        };
        return await parse.InvokeAsync(invocation, ct);
    }

    private static IEnumerable<string> CommandPath(Command command, RootCommand root)
    {
        var names = new List<string>();
        FindPath(root, command, names);
        return names;
    }

    private static bool FindPath(Command current, Command target, List<string> path)
    {
        foreach (var sub in current.Subcommands)
        {
            path.Add(sub.Name);
            if (sub == target || FindPath(sub, target, path)) return true;
            path.RemoveAt(path.Count - 1);
        }
        return false;
    }
}
