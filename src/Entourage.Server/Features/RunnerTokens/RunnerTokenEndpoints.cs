using System.Security.Cryptography;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using Entourage.Server.Hosting;
using Entourage.Server.Runners;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.RunnerTokens;

/// <summary>
/// Runner tokens (issue #10): the credential of `entourage runner --server … --runner-token …` on a machine that
/// must not reach the database. Minted by the server's operator (admin key, or the local user on a loopback-only
/// server): a runner runs agents of every org whose placement fits it, so no single org's key may mint one.
/// Shown once, stored as SHA-256, listed by prefix, revoked at once (the runner's next call gets 401).
/// </summary>
public static class RunnerTokenEndpoints
{
    public const string Prefix = "ent_runner_";

    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("/runner-tokens").WithTags("Runner tokens");
        g.MapPost("", Create).WithSummary("Mint a runner token; the token is shown once. Admin only.");
        g.MapGet("", List).WithSummary("Runner tokens (prefix only), newest last. Admin only.");
        g.MapDelete("/{runner_token_id}", Revoke).WithSummary("Revoke a runner token; its runners are refused (401) from their next call.");
    }

    private static async Task<Created<RunnerTokenDto>> Create(CreateRunnerTokenRequest body, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name)) errors.Add("name", "Required: say which machine or pool the token is for, e.g. \"gpu-box-1\".");
        else if (name.Length > 100) errors.Add("name", "At most 100 characters.");
        var labels = NodeLabels.Normalize(body.Labels, errors, "labels");
        errors.ThrowIfAny();
        var token = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var row = new RunnerToken
        {
            Id = Guid.CreateVersion7(),
            Name = name!,
            Labels = labels,
            Hash = AgentTokens.Hash(token),
            Prefix = token[..(Prefix.Length + 6)],
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        db.RunnerTokens.Add(row);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/runner-tokens/{row.Id}", ToDto(row) with { Token = token });
    }

    private static async Task<Ok<List<RunnerTokenDto>>> List(AppDbContext db, CancellationToken ct)
    {
        var rows = await db.RunnerTokens.AsNoTracking().OrderBy(t => t.CreatedAt).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(ToDto).ToList());
    }

    private static async Task<Ok<RunnerTokenDto>> Revoke(string runner_token_id, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        if (!Guid.TryParse(runner_token_id, out var id)) throw ApiProblem.Invalid("runner_token_id", "Use the token's id (a uuid) from GET /api/v1/runner-tokens, not the token itself.");
        var row = await db.RunnerTokens.FirstOrDefaultAsync(t => t.Id == id, ct) ?? throw ApiProblem.NotFound("runner token", id);
        row.RevokedAt ??= clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToDto(row));
    }

    private static RunnerTokenDto ToDto(RunnerToken t) => new(t.Id, t.Name, NodeLabels.Parse(t.Labels), t.Prefix, t.CreatedAt, t.LastUsedAt, t.RevokedAt);
}
