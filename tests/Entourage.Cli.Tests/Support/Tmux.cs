using System.Diagnostics;

namespace Entourage.Cli.Tests.Support;

/// <summary>
/// A tmux server of our own (its own socket, so nobody else's sessions are touched) running one command in a
/// real pseudo-terminal; the screen is read with `tmux capture-pane`.
/// </summary>
public sealed class Tmux : IAsyncDisposable
{
    private readonly string _socket = "entourage-cli-test-" + Guid.NewGuid().ToString("N")[..12];
    private const string Session = "cli";

    public static async Task<Tmux> StartAsync(string shellCommand, int width = 140, int height = 45)
    {
        if (!File.Exists("/usr/bin/tmux") && !File.Exists("/usr/local/bin/tmux"))
            throw new InvalidOperationException("The terminal test needs tmux: apt-get install -y tmux.");
        var tmux = new Tmux();
        await tmux.RunAsync("new-session", "-d", "-s", Session, "-x", width.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-y", height.ToString(System.Globalization.CultureInfo.InvariantCulture), shellCommand);
        return tmux;
    }

    public Task<string> CaptureAsync() => RunAsync("capture-pane", "-p", "-t", Session);

    /// <summary>
    /// Captures the screen until it satisfies <paramref name="done"/>. A terminal offers no change event to wait on,
    /// so this re-reads the screen; the timeout only bounds a broken run, it asserts nothing about speed.
    /// </summary>
    public async Task<string> WaitForScreenAsync(Func<string, bool> done, string what, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        var screen = "";
        while (DateTime.UtcNow < until)
        {
            screen = await CaptureAsync();
            if (done(screen)) return screen;
            await Task.Delay(100);
        }
        throw new TimeoutException($"The screen never showed {what}. Last screen:\n{screen}");
    }

    private async Task<string> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-L");
        psi.ArgumentList.Add(_socket);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        var error = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"tmux {string.Join(' ', args)} failed: {error}");
        return output;
    }

    public async ValueTask DisposeAsync()
    {
        try { await RunAsync("kill-server"); }
        catch (InvalidOperationException) { }
    }
}
