using System.Globalization;

namespace Entourage.Bench.Load;

/// <summary>A process's memory and CPU from Linux /proc; NaN once the process is gone.</summary>
internal static class ProcStat
{
    /// <summary>CPU seconds of the process itself and of the child processes it has reaped.</summary>
    public static (double Own, double Children) CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After the ")": field 3 is state, so utime (14) is f[11], stime f[12], cutime f[13], cstime f[14].
            double T(int i) => long.Parse(f[i], CultureInfo.InvariantCulture) / 100.0;
            return (T(11) + T(12), T(13) + T(14));
        }
        catch (IOException) { return (double.NaN, double.NaN); }
    }

    /// <summary>A "Key: N kB" line of /proc/PID/status, in KiB.</summary>
    public static double StatusKiB(int pid, string key)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
            return line is null ? double.NaN : double.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException) { return double.NaN; }
    }
}
