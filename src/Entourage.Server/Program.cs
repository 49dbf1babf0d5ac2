using Entourage.Server.Hosting;

try
{
    await EntourageApp.Build(args).RunAsync();
    return 0;
}
catch (InvalidOperationException ex) when (ex.Message.StartsWith("Another Entourage server", StringComparison.Ordinal))
{
    // A refused start is a user error, not a crash: one clear line, no stack trace.
    await Console.Error.WriteLineAsync("entourage: " + ex.Message);
    return 2;
}

/// <summary>Entry point; composition lives in <see cref="EntourageApp"/>.</summary>
public partial class Program;
