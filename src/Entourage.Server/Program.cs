using Entourage.Server.Hosting;
using Entourage.Server.Runners;

try
{
    // `Entourage.Server runner …` is a runner node (issue #10); the CLI's `entourage runner` is the same host.
    if (args is ["runner", ..])
    {
        await RunnerHost.Build(RunnerHost.Parse(args[1..])).RunAsync();
        return Entourage.Server.Runners.Http.HttpRunnerService.ExitCode;
    }
    await EntourageApp.Build(args).RunAsync();
    return 0;
}
catch (RunnerConfigurationException ex)
{
    await Console.Error.WriteLineAsync("entourage runner: " + ex.Message);
    return 2;
}
catch (InvalidOperationException ex) when (ex.Message.StartsWith("Another Entourage server", StringComparison.Ordinal))
{
    // A refused start is a user error, not a crash: one clear line, no stack trace.
    await Console.Error.WriteLineAsync("entourage: " + ex.Message);
    return 2;
}

/// <summary>Entry point; composition lives in <see cref="EntourageApp"/>.</summary>
public partial class Program;
