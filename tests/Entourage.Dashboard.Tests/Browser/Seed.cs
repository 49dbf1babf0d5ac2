using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Dashboard.Tests.Browser;

/// <summary>
/// Rows that only the dispatcher writes (usage records, a task's branch), written through the server's own
/// DbContext so the ChangeFeed publishes them exactly as the real write paths do.
/// </summary>
public static class Seed
{
    public static async Task<T> WithDbAsync<T>(TestServer server, Func<AppDbContext, Task<T>> work)
    {
        await using var db = await server.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await work(db);
    }

    /// <summary>What the dispatcher records when an engineer's turn first claims a task: its branch.</summary>
    public static Task<bool> BranchAsync(TestServer server, long taskId, string branch) =>
        WithDbAsync(server, async db =>
        {
            var t = await db.Tasks.SingleAsync(x => x.Id == taskId);
            t.Branch = branch;
            t.Version++;
            await db.SaveChangesAsync();
            return true;
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
}
