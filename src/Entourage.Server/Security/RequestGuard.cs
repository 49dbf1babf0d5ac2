using Entourage.Server.Mcp;
using Entourage.Server.Storage;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Security;

/// <summary>
/// In front of everything: Host/Origin checks, then who is calling. On a loopback-only server a request without
/// credentials is the local user (the spec's curls work as written); off loopback every request but /health needs
/// the admin key, an org API key or an agent token (Authorization: Bearer, or the dashboard's sign-in cookie),
/// else 401. A credential that is given is always checked and always scopes the request, on loopback too.
/// /mcp checks its own bearer tokens (McpBearerAuth), so it is only Host/Origin-checked here.
/// </summary>
public sealed partial class RequestGuard(RequestDelegate next, SecurityMode mode, AdminKey admin, IOptions<SecurityOptions> options, ILogger<RequestGuard> logger)
{
    public async Task InvokeAsync(HttpContext http, RequestCaller caller, AppDbContext db)
    {
        if (HostOriginCheck.Refusal(http.Request, mode.OffLoopback, options.Value.AllowedOrigins) is { } refusal)
        {
            await Refusals.Forbidden(refusal).ExecuteAsync(http);
            return;
        }
        var path = http.Request.Path;
        if (path.StartsWithSegments("/health") || path.StartsWithSegments(McpRegistration.Path))
        {
            await next(http);
            return;
        }
        if (LoginPage.Handles(path))
        {
            await LoginPage.HandleAsync(http, db, admin, caller);
            return;
        }

        var ct = http.RequestAborted;
        var bearer = Credentials.Bearer(http.Request);
        var secret = bearer ?? Credentials.Cookie(http.Request);
        if (secret is not null)
        {
            if (!await Credentials.ResolveAsync(secret, db, admin, caller, ct))
            {
                LogRefused(logger, http.Request.Method, path.Value ?? "");
                if (bearer is null && LoginPage.WantsHtml(http.Request))
                {
                    LoginPage.Redirect(http, signOut: true);
                    return;
                }
                await Challenge(http, "The key or token is unknown or revoked. " + HowToGetAKey);
                return;
            }
        }
        else if (mode.RequireCredentials)
        {
            if (LoginPage.WantsHtml(http.Request))
            {
                LoginPage.Redirect(http, signOut: false);
                return;
            }
            await Challenge(http, "This server listens beyond loopback, so every request needs credentials: send 'Authorization: Bearer <key>'. " + HowToGetAKey);
            return;
        }

        if (await ScopeCheck.CheckAsync(http, caller, db, ct) is { } refused)
        {
            await refused.ExecuteAsync(http);
            return;
        }
        await next(http);
    }

    public const string HowToGetAKey =
        "Use an org API key (minted with POST /api/v1/orgs/{org_id}/api-keys, shown once; the CLI reads it from ENTOURAGE_TOKEN), "
        + "an agent's token, or the server's admin key (ENTOURAGE_ADMIN_KEY, or the file admin-key in the server's data directory, written at the first start off loopback).";

    private static Task Challenge(HttpContext http, string detail)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer realm=\"entourage\"";
        return Refusals.Unauthorized(detail).ExecuteAsync(http);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Method} {Path}: unknown or revoked credentials.")]
    private static partial void LogRefused(ILogger logger, string method, string path);
}
