using System.CommandLine;
using System.Text.Json;
using Entourage.Client;
using Entourage.Client.Http;
using Spectre.Console;

namespace Entourage.Cli.Infrastructure;

/// <summary>What a running command needs: its parse result, the environment, and a lazily-built client.</summary>
public sealed class CommandContext(ParseResult parse, CliEnvironment env) : IDisposable
{
    private CliConfig? _config;
    private EntourageClient? _client;

    public ParseResult Parse { get; } = parse;
    public CliEnvironment Env { get; } = env;
    public IAnsiConsole Out => Env.Out;
    public bool Json => Parse.GetValue(GlobalOptions.Json);
    public CliConfig Config => _config ??= CliConfig.Load(Env.ConfigPath);

    public Uri ServerUrl
    {
        get
        {
            var text = Parse.GetValue(GlobalOptions.Url) ?? Env.GetEnv("ENTOURAGE_URL") ?? Config.Url ?? EntourageClient.DefaultUrl;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                throw CliException.Usage($"'{text}' is not a server URL. Give one like http://localhost:8000 (--url or ENTOURAGE_URL).");
            return url;
        }
    }

    public string? Token => Env.GetEnv("ENTOURAGE_TOKEN") is { Length: > 0 } t ? t : Config.Token;

    public EntourageClient Client => _client ??= new EntourageClient(ServerUrl, Token, Env.HttpHandler);

    public T? Get<T>(Option<T> option) => Parse.GetValue(option);

    public T? Get<T>(Argument<T> argument) => Parse.GetValue(argument);

    /// <summary>The team to act on: the option, then $ENTOURAGE_TEAM, then the config file.</summary>
    public string RequireTeam(Option<string?> option) =>
        Parse.GetValue(option) ?? Env.GetEnv("ENTOURAGE_TEAM") ?? Config.Team
        ?? throw CliException.Usage("Which team? Pass --team <slug|id>, set ENTOURAGE_TEAM, or put \"team\" in " + Env.ConfigPath + ".");

    public string OrgOrDefault(Option<string?> option) =>
        Parse.GetValue(option) ?? Env.GetEnv("ENTOURAGE_ORG") ?? Config.Org ?? "default";

    /// <summary>Writes a value as indented JSON on stdout (never wrapped, never colored).</summary>
    public void WriteJson<T>(T value)
    {
        Env.OutWriter.WriteLine(JsonSerializer.Serialize(value, ClientJson.Indented));
        Env.OutWriter.Flush();
    }

    public void Dispose() => _client?.Dispose();
}
