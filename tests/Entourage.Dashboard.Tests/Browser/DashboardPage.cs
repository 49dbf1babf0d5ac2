using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Entourage.Dashboard.Tests.Browser;

/// <summary>Helpers over a Playwright page showing the dashboard.</summary>
public static class DashboardPage
{
    public const int Desktop = 1280;
    public const int Phone = 390;

    public static async Task<IPage> OpenAsync(BrowserFixture browser, Uri baseUrl, int width = Desktop, bool dark = false)
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = width == Phone ? 844 : 900 },
            ColorScheme = dark ? ColorScheme.Dark : ColorScheme.Light,
            BaseURL = baseUrl.ToString(),
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        Assertions.SetDefaultExpectTimeout(30_000);
        return page;
    }

    /// <summary>Navigates and waits until the Blazor circuit is live (the layout marks itself interactive).</summary>
    public static async Task GoAsync(this IPage page, string path)
    {
        await page.GotoAsync(path);
        await WaitInteractiveAsync(page);
    }

    public static Task WaitInteractiveAsync(this IPage page) =>
        Expect(page.Locator("[data-testid=circuit]")).ToHaveAttributeAsync("data-interactive", "true");

    public static async Task ShotAsync(this IPage page, string name)
    {
        // Let MudBlazor's transitions settle; the screenshot is an artifact for people, not an assertion.
        // A full-page shot of a scrolled page draws the fixed app bar mid-page: start from the top.
        await page.EvaluateAsync("() => { window.scrollTo(0, 0); return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))); }");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, name + ".png"), FullPage = true });
    }

    /// <summary>Types into a MudTextField (its data-testid sits on the wrapper) and commits the value.</summary>
    public static async Task FillFieldAsync(this IPage page, string testId, string value)
    {
        var input = page.Locator($"[data-testid={testId}] input, [data-testid={testId}] textarea, input[data-testid={testId}], textarea[data-testid={testId}]").First;
        await input.FillAsync(value);
        await input.DispatchEventAsync("change");
    }
}
