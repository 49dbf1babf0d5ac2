using System.CommandLine;
using Entourage.Cli.Infrastructure;
using Entourage.Cli.Rendering;
using Entourage.Client.Contracts;

namespace Entourage.Cli.Commands.Orgs;

/// <summary>entourage org create &lt;name&gt; [--slug]</summary>
public sealed class OrgCreateCommand : EntourageCommand
{
    private readonly Argument<string> _name = new("name") { Description = "Display name of the org." };
    private readonly Option<string?> _slug = new("--slug") { Description = "URL-safe id (default: derived from the name)." };

    public OrgCreateCommand(CliEnvironment env) : base("create", "Create an org.", env)
    {
        Arguments.Add(_name);
        Options.Add(_slug);
    }

    protected override async Task<int> ExecuteAsync(CommandContext ctx, CancellationToken ct)
    {
        var org = await ctx.Client.CreateOrgAsync(new CreateOrgRequest(ctx.Get(_name), ctx.Get(_slug)), ct);
        if (ctx.Json) { ctx.WriteJson(org); return ExitCodes.Ok; }
        ctx.Out.MarkupLine($"Created org [bold]{Styles.Esc(org.Name)}[/] ({Styles.Esc(org.Slug)}) [dim]{org.Id}[/]");
        return ExitCodes.Ok;
    }
}
