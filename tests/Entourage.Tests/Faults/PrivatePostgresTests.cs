using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Entourage.Tests.Faults;

/// <summary>
/// PrivatePostgres picks a port and releases it before PostgreSQL binds it; when another process took it in between,
/// the start is retried on another port instead of failing the test that needed the cluster.
/// </summary>
public sealed class PrivatePostgresTests
{
    [Fact]
    public async Task A_port_taken_before_postgres_binds_it_is_replaced_by_another()
    {
        // The "other process": a listener on the first port offered, held for the whole start.
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var taken = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var offered = new List<int>();
        int Pick()
        {
            var port = offered.Count == 0 ? taken : FreePort();
            offered.Add(port);
            return port;
        }

        await using var pg = await PrivatePostgres.StartAsync(Pick);

        offered.Count.ShouldBe(2, "the taken port is given up after one failed start");
        pg.Port.ShouldBe(offered[1]);
        await using var conn = new NpgsqlConnection(pg.ConnectionString + ";Pooling=false");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT 1", conn);
        (await cmd.ExecuteScalarAsync()).ShouldBe(1);
    }

    [Fact]
    public async Task A_start_that_always_finds_its_port_taken_gives_up_after_bounded_attempts()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var taken = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var attempts = 0;

        var e = await Should.ThrowAsync<InvalidOperationException>(() => PrivatePostgres.StartAsync(() => { attempts++; return taken; }));

        attempts.ShouldBe(PrivatePostgres.PortAttempts);
        e.Message.ShouldContain("port taken");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
