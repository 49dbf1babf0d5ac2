namespace Entourage.Bench.Load;

/// <summary>
/// A child server's output file. Lines can still arrive from the output pipe after the server is disposed (an agent
/// it started may hold the pipe), so writes after <see cref="Dispose"/> are dropped instead of throwing on a
/// thread-pool thread, which would end the whole test run.
/// </summary>
internal sealed class ChildLog(string path) : IDisposable
{
    // Shared for reading and deleting: tests wait for text in it while the server runs.
    private readonly StreamWriter _writer = new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) { AutoFlush = true };
    private bool _closed;

    public void Append(string line)
    {
        lock (_writer)
            if (!_closed) _writer.WriteLine(line);
    }

    public void Dispose()
    {
        lock (_writer)
        {
            if (_closed) return;
            _closed = true;
            _writer.Dispose();
        }
    }
}
