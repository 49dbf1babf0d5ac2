using System.Text;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Dispatch;

/// <summary>
/// Appends a turn's output to <c>turns.log</c> in batches (one UPDATE per flush interval, not per line) and
/// publishes a "log" change so live viewers (SSE, dashboard) read the new tail.
/// </summary>
public sealed class TurnLogWriter(IDbContextFactory<AppDbContext> factory, ChangeInterceptor changes, Turn turn, int maxChars)
{
    private readonly Lock _gate = new();
    private StringBuilder _pending = new();
    private long _written;
    private bool _truncated;

    public void Append(string line)
    {
        lock (_gate)
        {
            if (_truncated) return;
            if (_written + _pending.Length + line.Length + 1 > maxChars)
            {
                _pending.Append("[entourage] log truncated at ").Append(maxChars).Append(" characters\n");
                _truncated = true;
                return;
            }
            _pending.Append(line).Append('\n');
        }
    }

    public async Task FlushAsync(CancellationToken ct)
    {
        string chunk;
        lock (_gate)
        {
            if (_pending.Length == 0) return;
            chunk = _pending.ToString();
            _pending = new StringBuilder();
            _written += chunk.Length;
        }
        await using var db = await factory.CreateDbContextAsync(ct);
        await db.Turns.Where(t => t.Id == turn.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.Log, t => t.Log + chunk), ct);
        changes.PublishRaw("turn", turn.Id.ToString(), turn.TeamId, "log");
    }

    /// <summary>Flushes every <paramref name="interval"/> until cancelled, then once more.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct)) await FlushAsync(ct);
        }
        catch (OperationCanceledException)
        {
        }
        await FlushAsync(CancellationToken.None);
    }
}
