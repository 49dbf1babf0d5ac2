namespace Entourage.Bench;

/// <summary>
/// Every latency sample of (a)–(d) starts from the same state: 10 ms after the previous one ended. On the product
/// paths this lets the last turn's wake-up of the dispatcher and its bookkeeping after the end (the request marked
/// done, the next pass) finish before the next sample starts, instead of competing with it for the two cores. The
/// raw floor waits the same way: back to back, its three connections and the threads serving them never go idle,
/// which on this machine (a VM with 2 vCPUs) made the floor 0.8 ms against 1.5–2.4 ms for the same statements
/// after 10 ms of idleness, and every ratio compared a hot loop with paths that start cold.
/// </summary>
public static class Sampling
{
    public static Task SettleAsync() => Task.Delay(10);
}
