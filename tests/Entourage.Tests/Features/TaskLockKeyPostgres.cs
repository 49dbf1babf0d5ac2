using Entourage.Server.Features.Tasks;
using Entourage.Tests.Infrastructure;
using Npgsql;
using Shouldly;

namespace Entourage.Tests.Features;

/// <summary>
/// A status change takes its team's advisory lock with the key computed in SQL; every other DAG writer computes it
/// in C#. They must name the same lock, or two writers of one team would not serialise.
/// </summary>
public sealed class TaskLockKeyPostgres
{
    [Fact]
    public async Task Sql_key_equals_the_csharp_key()
    {
        var rng = new Random(4242);
        var ids = new List<Guid> { Guid.Empty, Guid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff"), Guid.Parse("00112233-4455-6677-8899-aabbccddeeff") };
        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[16];
            rng.NextBytes(bytes);
            ids.Add(new Guid(bytes));
        }
        ids.Add(Guid.CreateVersion7());

        await using var conn = new NpgsqlConnection(PostgresTestDatabase.AdminConnectionString);
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        foreach (var id in ids)
        {
            await using var cmd = new NpgsqlCommand($"SELECT {TaskTransaction.LockKeySql("@g")}", conn);
            cmd.Parameters.AddWithValue("g", id);
            var key = (long)(await cmd.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
            key.ShouldBe(TaskTransaction.LockKey(id), $"team {id}");
        }
    }
}
