using System.Text;

namespace Entourage.Server.Dispatch;

/// <summary>
/// Buffers a turn's output and hands it to <paramref name="flush"/> in batches (one write per flush interval, not
/// per line): the database's <c>turns.log</c> plus a "log" change for live viewers, or the runner protocol's log
/// call. Output past <paramref name="maxChars"/> is dropped with one note.
/// </summary>
public sealed class TurnLogWriter(Func<string, CancellationToken, Task> flush, int maxChars)
{
    private readonly Lock _gate = new();
    private StringBuilder _pending = new();
    private long _written;
    private bool _truncated;

    /// <summary>What stands in for a NUL in stored output: the replacement character, so the line stays readable.</summary>
    public const char NulReplacement = '\uFFFD';

    public void Append(string line)
    {
        line = WithoutNul(line);
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

    /// <summary>
    /// Agents print what they like, NUL included (a binary file cat'ed, a tool's raw output). PostgreSQL text cannot
    /// store U+0000, so one such line failed the whole log write (and the runner protocol refuses it in JSON).
    /// </summary>
    public static string WithoutNul(string text) =>
        text.Contains('\0', StringComparison.Ordinal) ? text.Replace('\0', NulReplacement) : text;

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
        await flush(chunk, ct);
    }

    /// <summary>
    /// Flushes every <paramref name="interval"/> until cancelled, then once more. A flush that fails (the store or
    /// the server unreachable for a moment) loses that batch of output, never the turn.
    /// </summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            // Only the wait is cancelled: a flush under way has taken its chunk out of the buffer, and cancelling its
            // write lost those lines (a turn's last output, written just before it ended).
            while (await timer.WaitForNextTickAsync(ct)) await TryFlushAsync(CancellationToken.None);
        }
        catch (OperationCanceledException)
        {
        }
        await TryFlushAsync(CancellationToken.None);
    }

    private async Task TryFlushAsync(CancellationToken ct)
    {
        try
        {
            await FlushAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            lock (_gate) _pending.Insert(0, "[entourage] some output could not be saved: " + ex.Message + "\n");
        }
    }
}
