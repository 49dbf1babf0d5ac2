using System.Globalization;

namespace Entourage.Bench.Load;

public static class Stats
{
    /// <summary>Nearest-rank percentile; NaN for no samples.</summary>
    public static double Pct(IReadOnlyCollection<double> xs, double p)
    {
        if (xs.Count == 0) return double.NaN;
        var s = xs.Order().ToList();
        return s[Math.Clamp((int)Math.Ceiling(p / 100.0 * s.Count) - 1, 0, s.Count - 1)];
    }

    public static double Median(IReadOnlyCollection<double> xs) => Pct(xs, 50);

    public static string F(double x, string format = "0.00") => x.ToString(format, CultureInfo.InvariantCulture);

    public static string Line(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
