using System.CommandLine;
using System.Net;
using Entourage.Client.Http;
using Spectre.Console;

namespace Entourage.Cli.Infrastructure;

/// <summary>
/// Base of every verb: runs <see cref="ExecuteAsync"/> and turns failures into one clear message on stderr and
/// the documented exit code. With --json the error is JSON too, so scripts can parse both streams.
/// </summary>
public abstract class EntourageCommand : Command
{
    protected CliEnvironment Env { get; }

    protected EntourageCommand(string name, string description, CliEnvironment env) : base(name, description)
    {
        Env = env;
        SetAction(RunAsync);
    }

    protected abstract Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct);

    private async Task<int> RunAsync(ParseResult parse, CancellationToken ct)
    {
        using var ctx = new CommandContext(parse, Env);
        try
        {
            return await ExecuteAsync(ctx, ct);
        }
        catch (EntourageApiException ex)
        {
            ReportApiError(ctx, ex);
            return ex.Status switch
            {
                HttpStatusCode.NotFound => ExitCodes.NotFound,
                HttpStatusCode.Conflict => ExitCodes.Conflict,
                HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity or HttpStatusCode.RequestEntityTooLarge => ExitCodes.Usage,
                _ => ExitCodes.Error,
            };
        }
        catch (EntourageUnreachableException ex)
        {
            Report(ctx, "unreachable", $"No Entourage server answered at {ex.BaseUrl}. Start one with `entourage serve`, or point --url / ENTOURAGE_URL at a running server.", null);
            return ExitCodes.Unreachable;
        }
        catch (CliException ex)
        {
            Report(ctx, ex.ExitCode switch { ExitCodes.NotFound => "not_found", ExitCodes.Usage => "usage", _ => "error" }, ex.Message, null);
            return ex.ExitCode;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
    }

    private static void ReportApiError(CommandContext ctx, EntourageApiException ex)
    {
        var detail = ex.Status == HttpStatusCode.NotFound ? NotFoundHint.Rewrite(ex.Title, ex.Detail) : ex.Detail;
        var message = $"{(int)ex.Status} {ex.Title}" + (string.IsNullOrEmpty(detail) ? "" : $": {detail}");
        Report(ctx, ex.Status switch { HttpStatusCode.NotFound => "not_found", HttpStatusCode.Conflict => "conflict", _ => "api_error" }, message, ex);
    }

    private static void Report(CommandContext ctx, string kind, string message, EntourageApiException? api)
    {
        var err = ctx.Env.Error;
        if (ctx.Json)
        {
            var payload = new Dictionary<string, object?>
            {
                ["error"] = kind,
                ["message"] = message,
                ["status"] = api is null ? null : (int)api.Status,
                ["errors"] = api?.Errors.Count > 0 ? api.Errors : null,
            };
            err.Profile.Out.Writer.WriteLine(System.Text.Json.JsonSerializer.Serialize(payload, ClientJson.Options));
            return;
        }
        err.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
        if (api is not null)
            foreach (var (field, messages) in api.Errors)
                foreach (var m in messages)
                    err.MarkupLine($"  [yellow]{Markup.Escape(field)}[/]: {Markup.Escape(m)}");
    }
}

/// <summary>A group of verbs ("team", "task"): no action of its own, so a bare group prints its help.</summary>
public class CommandGroup : Command
{
    public CommandGroup(string name, string description, params Command[] verbs) : base(name, description)
    {
        foreach (var v in verbs) Subcommands.Add(v);
    }
}
