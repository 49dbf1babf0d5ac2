using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Cli.Tests.Support;

/// <summary>Waits on the server's own change feed (subscribed before the action), never on a sleep.</summary>
public static class Feed
{
    public static ChangeFeed.Subscription Subscribe(TestServer server) => server.Services.GetRequiredService<ChangeFeed>().Subscribe();

    /// <summary>The id of the next task created.</summary>
    public static async Task<long> NextTaskCreatedAsync(ChangeFeed.Subscription sub, CancellationToken ct)
    {
        await foreach (var e in sub.Reader.ReadAllAsync(ct))
            if (e.Kind == "task" && e.Op == "added") return long.Parse(e.Id, System.Globalization.CultureInfo.InvariantCulture);
        throw new InvalidOperationException("The change feed ended.");
    }
}
