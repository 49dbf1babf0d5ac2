namespace Entourage.Server.Storage;

/// <summary>
/// Holds an exclusive OS lock on ".entourage/entourage.lock" for the life of the process, so a second server on
/// the same SQLite file is refused. An OS lock (flock) rather than a lock row: the kernel releases it when the
/// process dies, even by SIGKILL, so a crash never leaves a stale lock behind.
/// </summary>
public sealed class SqliteSingleProcessLock : IDisposable
{
    private readonly FileStream _stream;

    private SqliteSingleProcessLock(FileStream stream) => _stream = stream;

    public static SqliteSingleProcessLock Acquire(string databasePath)
    {
        var dir = Path.GetDirectoryName(databasePath)!;
        Directory.CreateDirectory(dir);
        var lockPath = Path.Combine(dir, Path.GetFileNameWithoutExtension(databasePath) + ".lock");
        try
        {
            var fs = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            fs.SetLength(0);
            var pid = System.Text.Encoding.UTF8.GetBytes($"{Environment.ProcessId}\n");
            fs.Write(pid);
            fs.Flush();
            return new SqliteSingleProcessLock(fs);
        }
        catch (IOException)
        {
            var holder = TryRead(lockPath);
            throw new InvalidOperationException(
                $"Another Entourage server{(holder is null ? "" : $" (pid {holder})")} is already using {databasePath}. " +
                "The embedded SQLite store allows one server process. Stop the other one, start this one from another " +
                "directory (or set Storage:DataDirectory), or use PostgreSQL (ENTOURAGE_DATABASE_URL) to run several nodes.");
        }
    }

    private static string? TryRead(string path)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var r = new StreamReader(fs);
            return r.ReadLine()?.Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Dispose() => _stream.Dispose();
}
