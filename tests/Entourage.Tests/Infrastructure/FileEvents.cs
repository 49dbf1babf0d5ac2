namespace Entourage.Tests.Infrastructure;

/// <summary>
/// Waits on files written by other processes (agents, a child server's log) through a FileSystemWatcher: the
/// condition is checked once, then again on every change in the file's folder, never on a timer. The timeout only
/// catches a broken run.
/// </summary>
public static class FileEvents
{
    /// <summary>Waits until <paramref name="path"/> exists and is not empty (a pid file, a touch of FakeAgent).</summary>
    public static Task WaitForFileAsync(string path, TimeSpan? timeout = null) =>
        WaitUntilAsync(path, p => File.Exists(p) && new FileInfo(p).Length > 0, $"{path} to be written", timeout);

    /// <summary>Waits until the text file at <paramref name="path"/> contains <paramref name="text"/> (a log line).</summary>
    public static Task WaitForTextAsync(string path, string text, TimeSpan? timeout = null) =>
        WaitUntilAsync(path, p => ReadShared(p).Contains(text, StringComparison.Ordinal), $"'{text}' in {path}", timeout);

    public static async Task WaitUntilAsync(string path, Func<string, bool> condition, string what, TimeSpan? timeout = null)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        using var changed = new SemaphoreSlim(0);
        using var watcher = new FileSystemWatcher(dir)
        {
            Filter = Path.GetFileName(path),
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        void Signal() { try { changed.Release(); } catch (ObjectDisposedException) { } }
        watcher.Created += (_, _) => Signal();
        watcher.Changed += (_, _) => Signal();
        watcher.Renamed += (_, _) => Signal();
        // A lost inotify event (queue overflow) must not leave the wait hanging: look again.
        watcher.Error += (_, _) => Signal();
        // Watch first, then look: a change between the two is never missed.
        watcher.EnableRaisingEvents = true;
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(120));
        while (!condition(path))
        {
            try
            {
                await changed.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("Timed out waiting for " + what);
            }
        }
    }

    /// <summary>Reads a file another process may be appending to, without ever blocking its writer.</summary>
    public static string ReadShared(string path)
    {
        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var r = new StreamReader(s);
            return r.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return "";
        }
        catch (DirectoryNotFoundException)
        {
            return "";
        }
    }
}
