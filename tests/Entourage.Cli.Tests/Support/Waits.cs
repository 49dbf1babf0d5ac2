using System.Text.Json.Nodes;
using Entourage.Tests.Infrastructure;

namespace Entourage.Cli.Tests.Support;

/// <summary>Waits for a server-side state by re-reading it on every committed change (never on a timer).</summary>
public static class Waits
{
    /// <summary>
    /// Re-reads task <paramref name="id"/> after each change-feed event until <paramref name="done"/> holds. The
    /// timeout only bounds a broken run; nothing is asserted about speed.
    /// </summary>
    public static async Task<JsonNode> TaskAsync(TestServer server, long id, Func<JsonNode, bool> done, string what, int timeoutSeconds = 120)
    {
        using var sub = Feed.Subscribe(server);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
        var task = await server.GetJsonAsync($"/api/v1/tasks/{id}");
        try
        {
            while (!done(task))
            {
                // Any committed change may be the one we wait for (task, worktree, merge queue): re-read.
                await sub.Reader.ReadAsync(cts.Token);
                while (sub.Reader.TryRead(out _)) { }
                task = await server.GetJsonAsync($"/api/v1/tasks/{id}");
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Task {id} never reached: {what}. Last state: {task.ToJsonString()}");
        }
        return task;
    }
}
