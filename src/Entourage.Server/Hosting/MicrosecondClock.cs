namespace Entourage.Server.Hosting;

/// <summary>
/// The server's clock, read to the microsecond. PostgreSQL keeps timestamps to the microsecond and .NET reads the
/// time to 100 ns, so a time written and also returned in the write's answer (a message's created_at, a status
/// change's updated_at) differed in its seventh digit from every later read of the same row. Truncating where the
/// time is read makes the answer the stored value on both stores (SQLite keeps what it is given). Timers and
/// timestamps are the system's.
/// </summary>
public sealed class MicrosecondClock : TimeProvider
{
    public static readonly MicrosecondClock Instance = new();

    private MicrosecondClock() { }

    public override DateTimeOffset GetUtcNow()
    {
        var now = TimeProvider.System.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond));
    }
}
