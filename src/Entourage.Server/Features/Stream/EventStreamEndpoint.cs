namespace Entourage.Server.Features.Stream;

public static class EventStreamEndpoint
{
    public static void Map(WebApplication app) { }
}
