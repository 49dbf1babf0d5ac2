using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Entourage.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Tests.Infrastructure;

/// <summary>
/// A real Entourage server in-process on a random loopback port (real Kestrel, real HTTP), on a fresh SQLite
/// folder or a fresh PostgreSQL database. Dispose tears everything down.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string? _pgConnectionString;

    public Store Store { get; }
    public string DataDirectory { get; }
    public Uri BaseUrl { get; }
    public HttpClient Http { get; }
    public IServiceProvider Services => _app.Services;

    /// <summary>Every endpoint the app maps (REST, MCP, dashboard, hub, static assets, OpenAPI, health).</summary>
    public IEnumerable<Microsoft.AspNetCore.Http.Endpoint> Endpoints =>
        ((Microsoft.AspNetCore.Routing.IEndpointRouteBuilder)_app).DataSources.SelectMany(d => d.Endpoints);

    private TestServer(WebApplication app, Store store, string dataDir, string? pg)
    {
        _app = app;
        Store = store;
        DataDirectory = dataDir;
        _pgConnectionString = pg;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal).Replace("0.0.0.0", "localhost", StringComparison.Ordinal)
            .Replace("127.0.0.1", "localhost", StringComparison.Ordinal));
        Http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(120) };
    }

    /// <summary>
    /// Starts a server. <paramref name="settings"/> are configuration keys ("Dispatch:LeaseSeconds" → "2"); "urls" =
    /// "http://0.0.0.0:0" binds every interface (then every request needs a key). <paramref name="configure"/>
    /// may add to the builder (e.g. a logging provider).
    /// </summary>
    public static async Task<TestServer> StartAsync(Store store, IDictionary<string, string?>? settings = null, string? dataDirectory = null, string? postgresConnectionString = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        var dataDir = dataDirectory ?? Directory.CreateTempSubdirectory("entourage-test-").FullName;
        string? pg = null;
        var config = new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Storage:DataDirectory"] = dataDir,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (store == Store.Postgres)
        {
            pg = postgresConnectionString ?? await PostgresTestDatabase.CreateAsync();
            config["Storage:DatabaseUrl"] = pg;
        }
        if (settings is not null)
            foreach (var (k, v) in settings) config[k] = v;

        var app = EntourageApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(config);
            configure?.Invoke(b);
        });
        await app.StartAsync();
        return new TestServer(app, store, dataDir, postgresConnectionString is null ? pg : null);
    }

    public static readonly JsonSerializerOptions Json = JsonDefaults.Options;

    public async Task<JsonNode> GetJsonAsync(string path)
    {
        var r = await Http.GetAsync(path);
        await EnsureOk(r);
        return (await r.Content.ReadFromJsonAsync<JsonNode>())!;
    }

    /// <summary>POSTs raw JSON text (as a curl would) and returns the parsed response, asserting success.</summary>
    public async Task<JsonNode> PostJsonAsync(string path, string json)
    {
        var r = await Http.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        await EnsureOk(r);
        return (await r.Content.ReadFromJsonAsync<JsonNode>())!;
    }

    public async Task<Guid> DefaultOrgIdAsync() => (await GetJsonAsync("/api/v1/orgs")).AsArray()[0]!["id"]!.GetValue<Guid>();

    private static async Task EnsureOk(HttpResponseMessage r)
    {
        if (!r.IsSuccessStatusCode)
            throw new HttpRequestException($"{(int)r.StatusCode} {r.RequestMessage?.Method} {r.RequestMessage?.RequestUri}: {await r.Content.ReadAsStringAsync()}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_pgConnectionString is not null) await PostgresTestDatabase.DropAsync(_pgConnectionString);
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
