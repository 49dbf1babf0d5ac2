using Entourage.Server.Dispatch;
using Entourage.Server.Storage;

namespace Entourage.Tests.Dispatch;

/// <summary>
/// The default node name is the same for the same server restarted from the same place, and differs for two
/// servers on one host that differ in data directory, database or role. It never contains the password.
/// </summary>
public sealed class StableNodeNameTests
{
    private const string Db = "Host=db1;Port=5432;Database=entourage;Username=u;Password=secret-one";

    [Fact]
    public void The_same_place_gives_the_same_name_and_another_place_another()
    {
        var a = StableNodeName.Of(new DispatchOptions(), new StorageOptions { DataDirectory = "/srv/a/.entourage", DatabaseUrl = Db });
        StableNodeName.Of(new DispatchOptions(), new StorageOptions { DataDirectory = "/srv/a/.entourage", DatabaseUrl = Db }).ShouldBe(a);
        StableNodeName.IsValid(a).ShouldBeTrue(a);
        a.ShouldNotContain("secret");
        // The password may change (rotation) without the node losing its name.
        StableNodeName.Of(new DispatchOptions(), new StorageOptions { DataDirectory = "/srv/a/.entourage", DatabaseUrl = Db.Replace("secret-one", "secret-two", StringComparison.Ordinal) }).ShouldBe(a);

        StableNodeName.Of(new DispatchOptions(), new StorageOptions { DataDirectory = "/srv/b/.entourage", DatabaseUrl = Db }).ShouldNotBe(a);
        StableNodeName.Of(new DispatchOptions(), new StorageOptions { DataDirectory = "/srv/a/.entourage", DatabaseUrl = Db.Replace("db1", "db2", StringComparison.Ordinal) }).ShouldNotBe(a);
        StableNodeName.Of(new DispatchOptions { Role = "runner" }, new StorageOptions { DataDirectory = "/srv/a/.entourage", DatabaseUrl = Db }).ShouldNotBe(a);
    }

    [Fact]
    public void A_configured_name_wins_and_ids_under_a_name_are_told_apart_from_others()
    {
        StableNodeName.Of(new DispatchOptions { NodeName = " api-1 " }, new StorageOptions { DatabaseUrl = Db }).ShouldBe("api-1");
        StableNodeName.IsValid("api~1").ShouldBeFalse();
        StableNodeName.IsValid("-api").ShouldBeFalse();
        NodeIdentity.CarriesName("api-1~123-abcd", "api-1").ShouldBeTrue();
        NodeIdentity.CarriesName("api-1-2~123-abcd", "api-1").ShouldBeFalse("another name that merely starts alike");
        NodeIdentity.CarriesName("api-1-123-abcd", "api-1").ShouldBeFalse("a runner or unnamed id");
    }
}
