namespace Entourage.Server.Dispatch;

/// <summary>
/// What an agent runs as (its adapter and config, as stored), carried by a hint for task work
/// (<see cref="Doorbell.Expect"/>): the dispatcher checks on it that the agent's CLI is installed here before it
/// claims, and the claim only goes ahead while the agent's row still says exactly this. A task turn's claim moves
/// the task and writes its timeline, which cannot be given back as simply as a message claim's.
/// </summary>
public sealed record AgentLaunch(string Adapter, string ConfigJson);
