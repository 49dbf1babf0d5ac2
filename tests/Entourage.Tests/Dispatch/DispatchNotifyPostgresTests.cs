using System.Threading.Channels;
using Entourage.Tests.Infrastructure;
using Npgsql;
using Shouldly;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Dispatch;

/// <summary>
/// The doorbell's NOTIFY goes out when a transaction commits a dispatch request that is still pending then
/// (migration DispatchNotifyAtCommit): a request claimed in the transaction that created it wakes no dispatcher.
/// Notifications arrive in commit order, so "none from the first transaction" is shown by the first one to arrive
/// coming from a later transaction, on another connection; no waiting for silence.
/// </summary>
public sealed class DispatchNotifyPostgresTests : IAsyncLifetime
{
    private string _db = null!;
    private TestServer _server = null!;
    private Guid _team, _agent;

    public async ValueTask InitializeAsync()
    {
        _db = await PostgresTestDatabase.CreateAsync();
        // No dispatcher: nothing but the test touches the requests.
        _server = await TestServer.StartAsync(Store.Postgres, FastSettings(new Dictionary<string, string?> { ["Dispatch:Enabled"] = "false" }), postgresConnectionString: _db);
        _team = await CreateTeamAsync(_server);
        _agent = await AddFakeAgentAsync(_server, _team, "eng", Script(Step("print", new { text = "ok" })));
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await PostgresTestDatabase.DropAsync(_db);
    }

    [Fact]
    public async Task A_request_claimed_in_the_transaction_that_created_it_wakes_no_dispatcher()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var listener = await ListenAsync(ct);
        await using var claimedAtOnce = await OpenAsync(ct);
        await using var leftPending = await OpenAsync(ct);

        await using (var tx = await claimedAtOnce.BeginTransactionAsync(ct))
        {
            var id = await InsertPendingAsync(claimedAtOnce, ct);
            await ExecAsync(claimedAtOnce, $"UPDATE dispatch_requests SET state = 'claimed' WHERE id = {id}", ct);
            await tx.CommitAsync(ct);
        }
        await InsertPendingAsync(leftPending, ct);

        (await listener.NextAsync(ct)).ShouldBe(leftPending.ProcessID);
    }

    [Fact]
    public async Task A_request_pending_at_commit_wakes_the_dispatchers_whether_inserted_or_returned_to_pending()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var listener = await ListenAsync(ct);
        await using var writer = await OpenAsync(ct);

        var id = await InsertPendingAsync(writer, ct);
        (await listener.NextAsync(ct)).ShouldBe(writer.ProcessID);

        // Claimed (no notification: nothing is pending), then given back as the lease sweeper does.
        await ExecAsync(writer, $"UPDATE dispatch_requests SET state = 'claimed' WHERE id = {id}", ct);
        await using var sweeper = await OpenAsync(ct);
        await ExecAsync(sweeper, $"UPDATE dispatch_requests SET state = 'pending' WHERE id = {id}", ct);
        (await listener.NextAsync(ct)).ShouldBe(sweeper.ProcessID);
    }

    [Fact]
    public async Task A_turn_that_ends_still_wakes_the_dispatchers()
    {
        // The turns table's trigger (a freed slot) shares the doorbell's channel, not the requests' condition. The
        // turn's lease runs for an hour: the server's lease sweeper runs with its dispatcher off, and a turn whose lease
        // had run out was ended by it now and then before the test's own update, whose notification then came second.
        var ct = TestContext.Current.CancellationToken;
        await using var listener = await ListenAsync(ct);
        await using var writer = await OpenAsync(ct);
        var turn = Guid.NewGuid();
        await DispatchHarnessExtras.InsertTurnAsync(writer, turn, _agent, _team, "running", DateTime.UtcNow, endedAt: null, ct, leaseUntil: DateTime.UtcNow.AddHours(1));
        await using var ender = await OpenAsync(ct);
        await ExecAsync(ender, $"UPDATE turns SET state = 'succeeded', ended_at = now() WHERE id = '{turn}'", ct);

        (await listener.NextAsync(ct)).ShouldBe(ender.ProcessID);
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_db) { Pooling = false }.ConnectionString);
        await conn.OpenAsync(ct);
        return conn;
    }

    private async Task<long> InsertPendingAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO dispatch_requests (agent_id, team_id, reason, state, priority, attempts, created_at, updated_at)
            VALUES (@agent, @team, 'message', 'pending', 0, 0, now(), now()) RETURNING id
            """, conn);
        cmd.Parameters.AddWithValue("agent", _agent);
        cmd.Parameters.AddWithValue("team", _team);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task ExecAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<Listener> ListenAsync(CancellationToken ct)
    {
        var conn = await OpenAsync(ct);
        var pids = Channel.CreateUnbounded<int>();
        conn.Notification += (_, e) => pids.Writer.TryWrite(e.PID);
        await ExecAsync(conn, "LISTEN entourage_dispatch", ct);
        return new Listener(conn, pids.Reader);
    }

    /// <summary>A LISTEN connection and the backend pid of each notification it received, in order.</summary>
    private sealed class Listener(NpgsqlConnection conn, ChannelReader<int> pids) : IAsyncDisposable
    {
        public async Task<int> NextAsync(CancellationToken ct)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            // Each wait reads the connection until a message arrives; a notification fills the channel.
            int pid;
            while (!pids.TryRead(out pid)) await conn.WaitAsync(timeout.Token);
            return pid;
        }

        public ValueTask DisposeAsync() => conn.DisposeAsync();
    }
}
