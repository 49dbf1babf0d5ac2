using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;
using Entourage.Client.Http;

namespace Entourage.Cli.Commands.Tasks;

/// <summary>
/// entourage batch &lt;file.json|-&gt; --team T — the spec's create_tasks_batch body (<c>{"tasks": [...]}</c>, or just
/// the array), sent as written so the server checks every field; all tasks are created or none.
/// </summary>
public sealed class BatchCommand : EntourageCommand
{
    private readonly Argument<string> _file = new("file") { Description = "JSON file with {\"tasks\": [...]} (or a bare array); - reads stdin." };
    private readonly Option<string?> _team = GlobalOptions.Team();

    public BatchCommand(CliEnvironment env) : base("batch", "Create several tasks atomically from a JSON file (depends_on, depends_on_indices).", env)
    {
        Arguments.Add(_file);
        Options.Add(_team);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var file = ctx.Get(_file)!;
        string text;
        if (file == "-")
        {
            using var reader = new StreamReader(ctx.Env.OpenStdin());
            text = await reader.ReadToEndAsync(ct);
        }
        else
        {
            var path = Path.GetFullPath(file, ctx.Env.WorkingDirectory);
            if (!File.Exists(path)) throw CliException.Usage($"No file {path}.");
            text = await File.ReadAllTextAsync(path, ct);
        }
        JsonNode? body;
        try { body = JsonNode.Parse(text); }
        catch (JsonException ex) { throw CliException.Usage($"{file} is not valid JSON: {ex.Message}"); }
        if (body is JsonArray items) body = new JsonObject { ["tasks"] = items };
        if (body is not JsonObject) throw CliException.Usage($"{file} must hold {{\"tasks\": [...]}} or an array of tasks.");

        var raw = await ctx.Client.SendJsonAsync(HttpMethod.Post, $"api/v1/teams/{Uri.EscapeDataString(ctx.RequireTeam(_team))}/tasks/batch", body, ct);
        var created = raw.Deserialize<CreateTasksBatchResponse>(ClientJson.Options)!;
        if (ctx.Json) { ctx.WriteJson(created); return ExitCodes.Ok; }
        ctx.Out.MarkupLine($"Created {created.Tasks.Count.ToString(CultureInfo.InvariantCulture)} tasks in one transaction:");
        ctx.Out.Write(TaskViews.Table(created.Tasks));
        return ExitCodes.Ok;
    }
}
