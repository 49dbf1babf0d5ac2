using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Entourage.Tests.Infrastructure;

/// <summary>
/// Waits for any process to end, not only a child of the test (an agent's grandchild killed with its tree): a
/// Linux pidfd becomes readable when the process terminates, so the wait is an event, not a poll of /proc. Open
/// the watch while the process is known to run, so a recycled pid can never be mistaken for it.
/// </summary>
public sealed class ProcessExit : IDisposable
{
    private const long SysPidfdOpen = 434;
    private const short PollIn = 0x001;
    private const int Esrch = 3;
    private const int EIntr = 4;

    private readonly int _pid;
    private readonly int _fd;

    private ProcessExit(int pid, int fd)
    {
        _pid = pid;
        _fd = fd;
    }

    /// <summary>Watches process <paramref name="pid"/>; one that is already gone counts as ended.</summary>
    public static ProcessExit Watch(int pid)
    {
        var fd = (int)PidfdOpen(SysPidfdOpen, pid, 0);
        if (fd < 0 && Marshal.GetLastPInvokeError() is var errno and not Esrch)
            throw new Win32Exception(errno, $"pidfd_open({pid}) failed");
        return new ProcessExit(pid, fd);
    }

    /// <summary>Returns when the process has ended; throws after the timeout.</summary>
    public async Task WaitAsync(TimeSpan timeout)
    {
        if (_fd < 0) return;
        var ended = await Task.Run(() =>
        {
            var p = new PollFd { Fd = _fd, Events = PollIn };
            while (true)
            {
                var n = Poll(ref p, 1, (int)timeout.TotalMilliseconds);
                if (n > 0) return true;
                if (n == 0) return false;
                // Interrupted by a signal: poll again.
                if (Marshal.GetLastPInvokeError() != EIntr) throw new Win32Exception(Marshal.GetLastPInvokeError(), "poll failed");
            }
        });
        if (!ended) throw new TimeoutException($"Process {_pid} is still running after {timeout.TotalSeconds} s.");
    }

    public void Dispose()
    {
        if (_fd >= 0) Close(_fd);
    }

    public const int SigInt = 2, SigTerm = 15;

    /// <summary>kill(2): a signal to a process, or to a process group when <paramref name="pid"/> is negative.</summary>
    public static void Signal(int pid, int signal)
    {
        if (Kill(pid, signal) != 0 && Marshal.GetLastPInvokeError() != Esrch)
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"kill({pid}, {signal}) failed");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long PidfdOpen(long number, int pid, uint flags);

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static extern int Poll(ref PollFd fds, ulong nfds, int timeout);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
