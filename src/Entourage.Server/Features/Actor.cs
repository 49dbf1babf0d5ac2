using Entourage.Client.Contracts;
using Entourage.Server.Storage.Entities;

namespace Entourage.Server.Features;

/// <summary>
/// Who causes a change; every task event records it. REST calls act as a person (a status change made with an
/// agent's own token acts as that agent: <see cref="CallerActor"/>), MCP tools as the calling agent, the dispatcher
/// and sweeper as the system.
/// </summary>
public sealed record Actor(ActorType Type, string? Id, string Name)
{
    /// <summary>A person using the REST API, CLI or dashboard.</summary>
    public static Actor Human(string? name = null) => new(ActorType.Human, null, string.IsNullOrWhiteSpace(name) ? "human" : name.Trim());

    public static Actor ForAgent(Agent agent) => new(ActorType.Agent, agent.Id.ToString(), agent.Name);

    public static Actor ForAgent(Guid id, string name) => new(ActorType.Agent, id.ToString(), name);

    public static Actor System(string component = "system") => new(ActorType.System, null, component);

    /// <summary>The agent's id when the actor is an agent.</summary>
    public Guid? AgentId => Type == ActorType.Agent && Guid.TryParse(Id, out var g) ? g : null;

    public ActorDto ToDto() => new(Type, Id, Name);
}
