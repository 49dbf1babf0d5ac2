using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Dashboard.Tests.Browser;

/// <summary>
/// Rows that no REST call creates yet (human requests, reviews, usage come with issues #4 and #6), written through
/// the server's own DbContext so the ChangeFeed publishes them exactly as the real write paths will.
/// </summary>
public static class Seed
{
    public static async Task<T> WithDbAsync<T>(TestServer server, Func<AppDbContext, Task<T>> work)
    {
        await using var db = await server.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await work(db);
    }

    public static Task<long> HumanRequestAsync(TestServer server, Guid teamId, Guid agentId, long? taskId, string question, HumanRequestKind kind = HumanRequestKind.Question, string? optionsJson = null) =>
        WithDbAsync(server, async db =>
        {
            var r = new HumanRequest { TeamId = teamId, AgentId = agentId, TaskId = taskId, Kind = kind, Question = question, OptionsJson = optionsJson, CreatedAt = DateTime.UtcNow };
            db.HumanRequests.Add(r);
            await db.SaveChangesAsync();
            return r.Id;
        });

    public static Task<long> UsageAsync(TestServer server, Guid teamId, Guid agentId, long? taskId, double costUsd, long input = 12_000, long output = 3_400) =>
        WithDbAsync(server, async db =>
        {
            var now = DateTime.UtcNow;
            var u = new UsageRecord
            {
                TeamId = teamId, AgentId = agentId, TaskId = taskId, Model = "claude-sonnet-4-20250514",
                InputTokens = input, OutputTokens = output, CostUsd = costUsd, Day = DateOnly.FromDateTime(now), CreatedAt = now,
            };
            db.UsageRecords.Add(u);
            await db.SaveChangesAsync();
            return u.Id;
        });

    public static Task<long> ReviewAsync(TestServer server, Guid teamId, long taskId, string diff, params (string File, int Line, string Body)[] comments) =>
        WithDbAsync(server, async db =>
        {
            var r = new Review { TeamId = teamId, TaskId = taskId, Diff = diff, Summary = "Profile endpoint with 404 for unknown users", RequestedAt = DateTime.UtcNow };
            db.Reviews.Add(r);
            await db.SaveChangesAsync();
            foreach (var (file, line, body) in comments)
                db.ReviewComments.Add(new ReviewComment { ReviewId = r.Id, FilePath = file, Line = line, Body = body, Author = "alice", CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync();
            return r.Id;
        });
}
