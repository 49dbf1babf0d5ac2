using Entourage.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Entourage.Dashboard.Tests.Browser;

/// <summary>The dashboard's assets and live circuit work under both loopback names, and foreign hosts are refused.</summary>
[Collection(BrowserCollection.Name)]
public sealed class HostingTests(BrowserFixture browser) : IAsyncLifetime
{
    private TestServer _server = default!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(Store.Sqlite);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    public async Task The_live_circuit_connects_on_each_loopback_name(string host)
    {
        var url = new UriBuilder(_server.BaseUrl) { Host = host }.Uri;
        var page = await DashboardPage.OpenAsync(browser, url);
        var failed = new List<string>();
        page.RequestFailed += (_, r) => failed.Add(r.Url);
        page.Response += (_, r) => { if (r.Status >= 400) failed.Add($"{r.Status} {r.Url}"); };
        await page.GoAsync("/");
        // The theme toggle only reacts through the circuit (server-side event handler).
        var toggle = page.GetByTestId("theme-toggle");
        var before = await toggle.GetAttributeAsync("aria-label");
        await toggle.ClickAsync();
        await Expect(toggle).Not.ToHaveAttributeAsync("aria-label", before!);
        failed.ShouldBeEmpty();
        (await page.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('.mud-appbar')).position")).ShouldBe("fixed");
    }

    [Theory]
    [InlineData("_framework/blazor.web.js", "javascript")]
    [InlineData("_content/MudBlazor/MudBlazor.min.css", "css")]
    [InlineData("_content/MudBlazor/MudBlazor.min.js", "javascript")]
    public async Task Static_assets_are_served_from_the_build_output(string path, string type)
    {
        using var r = await _server.Http.GetAsync(path, TestContext.Current.CancellationToken);
        r.IsSuccessStatusCode.ShouldBeTrue($"{path}: {(int)r.StatusCode}");
        r.Content.Headers.ContentType!.MediaType!.ShouldContain(type);
    }

    [Fact]
    public async Task A_page_asked_for_under_a_foreign_host_name_is_refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = "attacker.example";
        using var r = await _server.Http.SendAsync(request, TestContext.Current.CancellationToken);
        ((int)r.StatusCode).ShouldBe(403);
    }
}
