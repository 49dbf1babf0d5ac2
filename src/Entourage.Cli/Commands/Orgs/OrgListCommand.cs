using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;
using Spectre.Console;

namespace Entourage.Cli.Commands.Orgs;

/// <summary>entourage org list</summary>
public sealed class OrgListCommand : EntourageCommand
{
    public OrgListCommand(CliEnvironment env) : base("list", "List the orgs (a \"default\" org always exists).", env) { }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var orgs = await ctx.Client.ListOrgsAsync(ct);
        if (ctx.Json) { ctx.WriteJson(orgs); return ExitCodes.Ok; }
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Slug", "Name", "Created", "Id");
        foreach (var o in orgs) table.AddRow(Styles.Esc(o.Slug), Styles.Esc(o.Name), Styles.Time(o.CreatedAt), $"[dim]{o.Id}[/]");
        ctx.Out.Write(table);
        return ExitCodes.Ok;
    }
}
