using System.Globalization;

namespace Entourage.Server.Dashboard.Data;

public static class Money
{
    /// <summary>Dollars with cents; sub-cent amounts (one cheap turn) keep 4 decimals so they do not read as $0.00.</summary>
    public static string Format(double usd) =>
        "$" + (usd is > 0 and < 0.01 ? usd.ToString("0.0000", CultureInfo.InvariantCulture) : usd.ToString("0.00", CultureInfo.InvariantCulture));

    public static string Tokens(long n) => n switch
    {
        >= 1_000_000 => (n / 1_000_000d).ToString("0.#", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (n / 1_000d).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };
}
