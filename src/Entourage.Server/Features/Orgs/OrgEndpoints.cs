using System.Text.RegularExpressions;
using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Orgs;

public static partial class OrgEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("/orgs").WithTags("Orgs");
        g.MapGet("/", List);
        g.MapPost("/", Create);
    }

    // An org key or agent token sees only its own org (issue #9).
    private static async Task<Ok<List<OrgDto>>> List(AppDbContext db, Security.RequestCaller caller, CancellationToken ct) =>
        TypedResults.Ok(await db.Orgs.Where(o => caller.Unrestricted || o.Id == caller.OrgId)
            .OrderBy(o => o.CreatedAt).Select(o => new OrgDto(o.Id, o.Name, o.Slug, o.CreatedAt)).ToListAsync(ct));

    private static async Task<Created<OrgDto>> Create(CreateOrgRequest body, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name)) errors.Add("name", "Required: give the org a name.");
        else if (name.Length > 200) errors.Add("name", "At most 200 characters.");
        var slug = body.Slug?.Trim() ?? Slugs.From(name ?? "");
        if (!Slugs.IsValid(slug)) errors.Add("slug", Slugs.Rule);
        errors.ThrowIfAny();
        if (await db.Orgs.AnyAsync(o => o.Slug == slug, ct)) throw SlugTaken(slug);

        var org = new Org { Id = Guid.CreateVersion7(), Name = name!, Slug = slug, CreatedAt = clock.GetUtcNow().UtcDateTime };
        db.Orgs.Add(org);
        await db.SaveOrConflictAsync(() => SlugTaken(slug), ct);
        return TypedResults.Created($"/api/v1/orgs/{org.Id}", new OrgDto(org.Id, org.Name, org.Slug, org.CreatedAt));
    }

    private static ApiProblem SlugTaken(string slug) => ApiProblem.Conflict($"An org with slug '{slug}' already exists. Pick another slug.");

    /// <summary>Finds an org by uuid or slug ("default"), so users can type either.</summary>
    public static async Task<Org> FindAsync(AppDbContext db, string idOrSlug, CancellationToken ct) =>
        (Guid.TryParse(idOrSlug, out var id)
            ? await db.Orgs.FirstOrDefaultAsync(o => o.Id == id, ct)
            : await db.Orgs.FirstOrDefaultAsync(o => o.Slug == idOrSlug, ct))
        ?? throw ApiProblem.NotFound("org", idOrSlug);
}

/// <summary>URL-safe identifiers for orgs and teams.</summary>
public static partial class Slugs
{
    public const string Rule = "Use 1–100 lower-case letters, digits and dashes, starting with a letter or digit (e.g. \"platform\").";

    public static bool IsValid(string? slug) => slug is not null && SlugPattern().IsMatch(slug);

    public static string From(string name) => DashRuns().Replace(NonSlug().Replace(name.ToLowerInvariant(), "-"), "-").Trim('-') is { Length: > 0 } s ? s[..Math.Min(100, s.Length)] : "";

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,99}$")]
    private static partial Regex SlugPattern();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonSlug();

    [GeneratedRegex("-{2,}")]
    private static partial Regex DashRuns();
}
