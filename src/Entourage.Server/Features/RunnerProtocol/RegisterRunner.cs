using System.Text.RegularExpressions;
using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Hosting;
using Entourage.Server.Runners;
using Entourage.Server.Security;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Features.RunnerProtocol;

/// <summary>
/// POST /runner/register: a runner becomes a node (role runner, shown by GET /nodes) with its labels and capacity.
/// A token with labels caps them: the runner may offer a subset (none given: the token's). Each start registers
/// anew, so a restarted runner never mistakes its dead predecessor's leases for its own.
/// </summary>
public static partial class RegisterRunner
{
    public const int MaxCapacity = 256;

    public static async Task<Ok<RunnerRegistrationDto>> Handle(RunnerRegisterRequest body, HttpContext http, RequestCaller caller, AppDbContext db,
        IOptions<DispatchOptions> options, TimeProvider clock, CancellationToken ct)
    {
        var tokenId = RunnerProtocolEndpoints.RunnerTokenOf(caller);
        var errors = new ValidationErrors();
        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name)) errors.Add("name", "Required: this runner's name, e.g. the machine's host name (1–63 of a-z, 0-9, '.', '_', '-').");
        else if (!NameRule().IsMatch(name)) errors.Add("name", $"'{name}' is not a valid runner name: 1–63 of a-z, A-Z, 0-9, '.', '_' or '-', starting with a letter or digit.");
        var labels = NodeLabels.Normalize(body.Labels, errors, "labels");
        if (caller.RunnerTokenLabels is { } allowed && labels is not null)
        {
            var extra = NodeLabels.Parse(labels).Except(NodeLabels.Parse(allowed)).ToList();
            if (extra.Count > 0) errors.Add("labels", $"This runner token allows only the labels [{string.Join(", ", NodeLabels.Parse(allowed))}]; drop [{string.Join(", ", extra)}] or use a token minted with them.");
        }
        var capacity = body.Capacity ?? 4;
        if (capacity is < 1 or > MaxCapacity) errors.Add("capacity", $"The turns this runner runs at once: a whole number from 1 to {MaxCapacity}.");
        if (body.Version is { Length: > 100 }) errors.Add("version", "At most 100 characters.");
        if (body.Host is { Length: > 255 }) errors.Add("host", "At most 255 characters.");
        errors.ThrowIfAny();

        var now = clock.GetUtcNow().UtcDateTime;
        var node = new Node
        {
            Id = $"{name!.ToLowerInvariant()}-{Guid.NewGuid().ToString("N")[..8]}",
            Role = "runner",
            Labels = labels ?? caller.RunnerTokenLabels,
            Version = body.Version,
            Host = body.Host ?? http.Connection.RemoteIpAddress?.ToString(),
            MaxConcurrentTurns = capacity,
            StartedAt = now,
            HeartbeatAt = now,
            RunnerTokenId = tokenId,
        };
        db.Nodes.Add(node);
        await db.RunnerTokens.Where(t => t.Id == tokenId).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), ct);
        await db.SaveChangesAsync(ct);
        var o = options.Value;
        return TypedResults.Ok(new RunnerRegistrationDto(node.Id, NodeLabels.Parse(node.Labels), capacity, o.Heartbeat.TotalSeconds, o.Lease.TotalSeconds, ClaimForRunner.MaxWaitSeconds));
    }

    /// <summary>POST /runner/stop: the node stopped cleanly; GET /nodes shows it stopped rather than lost.</summary>
    public static async Task<Ok<NodeStateDto>> Stop(RunnerStopRequest body, RequestCaller caller, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var node = await RunnerProtocolEndpoints.NodeAsync(db, caller, body.NodeId, new ValidationErrors(), ct);
        var now = clock.GetUtcNow().UtcDateTime;
        node.StoppedAt = now;
        node.HeartbeatAt = now;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new NodeStateDto(node.Id, "stopped"));
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex NameRule();
}
