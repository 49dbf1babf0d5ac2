using System.Globalization;

namespace Entourage.Bench.Load;

/// <summary>
/// Options of <c>load</c>. The defaults are the issue's sizes (1 000 tasks, 32 agents, both stores); a smoke run
/// is <c>--tasks 20 --agents 4 --store sqlite</c>.
/// </summary>
public sealed record LoadOptions
{
    public int Tasks { get; init; } = 1000;
    public int Agents { get; init; } = 32;
    public string Store { get; init; } = "both";
    public int Seed { get; init; } = 42;

    /// <summary>curl: /bin/sh + curl marks the task done (the cheapest real agent process); fake: tests/FakeAgent (a .NET process).</summary>
    public string Agent { get; init; } = "curl";

    /// <summary>lanes: each agent's tasks form a chain (plus random cross-lane edges); random: random assignees.</summary>
    public string Dag { get; init; } = "lanes";

    public int FloorSamples { get; init; } = 200;
    public int RecoveryTurns { get; init; } = 8;
    public double LeaseSeconds { get; init; } = 2;
    public double HeartbeatSeconds { get; init; } = 0.5;
    public int BatchRepetitions { get; init; } = 3;

    /// <summary>Which parts run: dag, recovery, batch (comma-separated) or all.</summary>
    public string Parts { get; init; } = "all";

    /// <summary>A run that makes no progress for this long stops and reports what is stuck.</summary>
    public double StallSeconds { get; init; } = 30;

    public bool Runs(string part) => Parts == "all" || Parts.Split(',').Contains(part);

    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        var o = new LoadOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var value = i + 1 < args.Count ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.");
            o = args[i] switch
            {
                "--tasks" => o with { Tasks = Int(value) },
                "--agents" => o with { Agents = Int(value) },
                "--store" => o with { Store = OneOf(value, "sqlite", "postgres", "both") },
                "--seed" => o with { Seed = Int(value) },
                "--agent" => o with { Agent = OneOf(value, "curl", "fake") },
                "--dag" => o with { Dag = OneOf(value, "lanes", "random") },
                "--floor" => o with { FloorSamples = Int(value) },
                "--recovery-turns" => o with { RecoveryTurns = Int(value) },
                "--lease" => o with { LeaseSeconds = double.Parse(value, CultureInfo.InvariantCulture) },
                "--heartbeat" => o with { HeartbeatSeconds = double.Parse(value, CultureInfo.InvariantCulture) },
                "--batch-reps" => o with { BatchRepetitions = Int(value) },
                "--parts" => o with { Parts = value },
                "--stall" => o with { StallSeconds = double.Parse(value, CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"Unknown option {args[i]}. {Usage}"),
            };
            i++;
        }
        if (o.Tasks < 1 || o.Agents < 1) throw new ArgumentException("--tasks and --agents must be at least 1.");
        return o;
    }

    public const string Usage =
        "Usage: load [--tasks 1000] [--agents 32] [--store sqlite|postgres|both] [--agent curl|fake] [--dag lanes|random] " +
        "[--seed 42] [--floor 200] [--recovery-turns 8] [--lease 2] [--heartbeat 0.5] [--batch-reps 3] [--parts all|dag,recovery,batch] [--stall 30]";

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    private static string OneOf(string s, params string[] allowed) =>
        allowed.Contains(s) ? s : throw new ArgumentException($"'{s}' is not one of: {string.Join(", ", allowed)}.");
}
