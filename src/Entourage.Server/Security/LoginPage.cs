using System.Net;
using Entourage.Server.Storage;

namespace Entourage.Server.Security;

/// <summary>
/// The dashboard's sign-in off loopback: GET /login shows a form, POST /login takes the admin key from the form
/// body (never from the URL, which access logs and browser history keep) and sets it as an HttpOnly,
/// SameSite=Strict cookie; /logout clears it. The Blazor hub's requests carry the cookie like the pages do.
/// </summary>
public static class LoginPage
{
    public const string Path = "/login";
    public const string LogoutPath = "/logout";

    public static bool Handles(PathString path) => path.Equals(Path, StringComparison.OrdinalIgnoreCase) || path.Equals(LogoutPath, StringComparison.OrdinalIgnoreCase);

    public static bool WantsHtml(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    /// <summary>Sends the browser to the sign-in page, coming back to where it was.</summary>
    public static void Redirect(HttpContext http, bool signOut)
    {
        if (signOut) http.Response.Cookies.Delete(Credentials.CookieName);
        var back = http.Request.PathBase + http.Request.Path + http.Request.QueryString;
        http.Response.Redirect(Path + "?return=" + Uri.EscapeDataString(back));
    }

    public static async Task HandleAsync(HttpContext http, AppDbContext db, AdminKey admin, RequestCaller caller)
    {
        var request = http.Request;
        if (request.Path.Equals(LogoutPath, StringComparison.OrdinalIgnoreCase))
        {
            http.Response.Cookies.Delete(Credentials.CookieName);
            http.Response.Redirect(Path);
            return;
        }
        var back = SafeReturn(request.Query["return"]);
        if (!HttpMethods.IsPost(request.Method))
        {
            await Page(http, 200, back, null);
            return;
        }
        var form = request.HasFormContentType ? await request.ReadFormAsync(http.RequestAborted) : null;
        back = SafeReturn(form?["return"].ToString() ?? back);
        var key = form?["key"].ToString().Trim() ?? "";
        if (key.Length is 0 or > 512 || !await Credentials.ResolveAsync(key, db, admin, caller, http.RequestAborted))
        {
            await Page(http, 401, back, "That key is unknown or revoked.");
            return;
        }
        if (caller.Kind != CallerKind.Admin)
        {
            await Page(http, 403, back, "That is an org API key or an agent token: they work on the API (/api/v1) and /mcp. The dashboard shows every org, so it takes the server's admin key.");
            return;
        }
        http.Response.Cookies.Append(Credentials.CookieName, key, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = request.IsHttps,
            Path = "/",
            IsEssential = true,
        });
        http.Response.Redirect(back, permanent: false);
        http.Response.StatusCode = StatusCodes.Status303SeeOther;
    }

    /// <summary>Only paths on this server: "//evil.example" or "https://…" would make the page an open redirect.</summary>
    private static string SafeReturn(string? value) =>
        value is { Length: > 0 } v && v.StartsWith('/') && !v.StartsWith("//", StringComparison.Ordinal) && !v.StartsWith("/\\", StringComparison.Ordinal) ? v : "/";

    private static async Task Page(HttpContext http, int status, string back, string? error)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/html; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";
        var message = error is null ? "" : $"<p class=\"error\">{WebUtility.HtmlEncode(error)}</p>";
        await http.Response.WriteAsync($$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Entourage — sign in</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}input{width:100%;padding:.5rem;margin:.5rem 0;box-sizing:border-box}.error{color:#b00020}</style>
            </head><body>
            <h1>Entourage</h1>
            <p>This server is reachable from the network, so the dashboard needs the server's admin key
            (ENTOURAGE_ADMIN_KEY, or the file <code>admin-key</code> in its data directory).</p>
            {{message}}
            <form method="post" action="{{Path}}">
              <input type="hidden" name="return" value="{{WebUtility.HtmlEncode(back)}}">
              <label>Admin key <input type="password" name="key" autocomplete="current-password" autofocus required></label>
              <button type="submit">Sign in</button>
            </form>
            </body></html>
            """, http.RequestAborted);
    }
}
