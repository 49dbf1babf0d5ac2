using Entourage.Server.Dispatch;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Entourage.Tests.Dispatch;

/// <summary>
/// PostgreSQL only (the name's lock is a PostgreSQL advisory lock): one live process holds a node name at a time.
/// A second one with the same name keeps a unique id that carries no name, so a later holder of the name can never
/// mistake that live process's turns for a dead predecessor's; the name is free again once its holder stops.
/// </summary>
public sealed class NodeNameLockTests : IAsyncLifetime
{
    private string _pg = "";
    private readonly List<NodeNameLock> _locks = [];

    public async ValueTask InitializeAsync() => _pg = await PostgresTestDatabase.CreateAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var l in _locks) await l.DisposeAsync();
        await PostgresTestDatabase.DropAsync(_pg);
    }

    [Fact]
    public async Task A_second_process_with_the_same_name_does_not_get_it_and_keeps_a_unique_id()
    {
        var ct = TestContext.Current.CancellationToken;
        var (first, firstId) = await StartAsync("box-a", ct);
        firstId.StableName.ShouldBe("box-a");
        NodeIdentity.CarriesName(firstId.Id, "box-a").ShouldBeTrue(firstId.Id);

        var (_, secondId) = await StartAsync("box-a", ct);
        secondId.StableName.ShouldBeNull("the name is held by a live process");
        secondId.Id.ShouldNotContain(NodeIdentity.NameSeparator.ToString());
        NodeIdentity.CarriesName(secondId.Id, "box-a").ShouldBeFalse(secondId.Id);

        var (_, otherId) = await StartAsync("box-b", ct);
        otherId.StableName.ShouldBe("box-b", "another name has a lock of its own");

        // A clean stop (or a crash: PostgreSQL ends the session either way) frees the name for the next start.
        await first.StopAsync(ct);
        var (_, thirdId) = await StartAsync("box-a", ct);
        thirdId.StableName.ShouldBe("box-a");
        thirdId.Id.ShouldNotBe(firstId.Id, "every start has an id of its own, even under the same name");
    }

    [Fact]
    public async Task A_dropped_lock_connection_takes_the_name_again_so_a_later_start_does_not_get_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var (held, heldId) = await StartAsync("box-d", ct);
        var pid = held.BackendPid.ShouldNotBeNull();
        var reacquired = held.NextAcquisition;
        await using (var admin = new Npgsql.NpgsqlConnection(_pg))
        {
            await admin.OpenAsync(ct);
            await using var kill = new Npgsql.NpgsqlCommand("SELECT pg_terminate_backend(@pid)", admin);
            kill.Parameters.AddWithValue("pid", pid);
            (await kill.ExecuteScalarAsync(ct)).ShouldBe(true);
        }
        // The bound only catches a broken run.
        try
        {
            await reacquired.WaitAsync(TimeSpan.FromSeconds(30), ct);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException("the name's lock was not taken again after its connection was terminated", e);
        }
        held.BackendPid.ShouldNotBe(pid);
        heldId.StableName.ShouldBe("box-d", "the id never changes once in use");

        var (_, laterId) = await StartAsync("box-d", ct);
        laterId.StableName.ShouldBeNull("the name is held again by the live process");
    }

    [Fact]
    public async Task An_id_read_before_the_lock_is_taken_stays_as_it_was()
    {
        var identity = new NodeIdentity();
        var early = identity.Id;
        await using var l = NewLock("box-c", identity);
        await l.StartAsync(TestContext.Current.CancellationToken);
        identity.Id.ShouldBe(early);
        identity.StableName.ShouldBeNull();
    }

    private async Task<(NodeNameLock Lock, NodeIdentity Identity)> StartAsync(string name, CancellationToken ct)
    {
        var identity = new NodeIdentity();
        var l = NewLock(name, identity);
        _locks.Add(l);
        await l.StartAsync(ct);
        return (l, identity);
    }

    private NodeNameLock NewLock(string name, NodeIdentity identity) => new(identity,
        Options.Create(new DispatchOptions { NodeName = name }),
        Options.Create(new StorageOptions { DatabaseUrl = _pg }),
        TimeProvider.System, NullLogger<NodeNameLock>.Instance);
}
