namespace Entourage.Tests.Faults;

/// <summary>
/// Seeds for the randomized fault tests. Every run prints its seed; setting ENTOURAGE_FAULT_SEED (all tests) or
/// ENTOURAGE_FAULT_SEED_{NAME} (one test) replays it. A failure message carries the seed and the variable to set.
/// </summary>
public static class FaultSeed
{
    public static int Resolve(string name)
    {
        var specific = "ENTOURAGE_FAULT_SEED_" + name.ToUpperInvariant();
        var text = Environment.GetEnvironmentVariable(specific) ?? Environment.GetEnvironmentVariable("ENTOURAGE_FAULT_SEED");
        var seed = int.TryParse(text, out var s) ? s : Random.Shared.Next();
        var line = $"[fault seed] {name}: {seed} (replay with {specific}={seed})";
        Console.Error.WriteLine(line);
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        return seed;
    }

    /// <summary>Runs <paramref name="body"/> with a seeded Random; a failure is rethrown naming the seed.</summary>
    public static async Task RunAsync(string name, Func<Random, Task> body)
    {
        var seed = Resolve(name);
        try
        {
            await body(new Random(seed));
        }
        catch (Exception e)
        {
            throw new SeededFailure($"{name} failed with seed {seed} (replay: ENTOURAGE_FAULT_SEED_{name.ToUpperInvariant()}={seed}): {e.Message}", e);
        }
    }
}

public sealed class SeededFailure(string message, Exception inner) : Exception(message, inner);
