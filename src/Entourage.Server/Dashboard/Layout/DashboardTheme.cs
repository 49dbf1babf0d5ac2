using MudBlazor;

namespace Entourage.Server.Dashboard.Layout;

/// <summary>One palette per mode; state colours (look-*) live in DashboardStyles and read in both.</summary>
public static class DashboardTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#3949ab",
            Secondary = "#00897b",
            AppbarBackground = "#283593",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#8c9eff",
            Secondary = "#4db6ac",
            AppbarBackground = "#1a1d2e",
            Background = "#12131a",
            Surface = "#1c1e29",
        },
    };
}
