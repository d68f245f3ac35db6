namespace Slipway.Reporter.Dashboard;

/// <summary>
/// Headers on every answer of the reporter (pages, JSON, downloads, the live stream). Pages show the uploader's text,
/// so even if an encoding were ever missed the browser runs no inline script and loads nothing from elsewhere: the
/// pages' only scripts and styles are this service's own files under <c>/static/</c> (<see cref="StaticAssets"/>).
/// No page may be framed (clickjacking the approve and rollback forms), no answer is sniffed into HTML, and no
/// link to Gerrit or elsewhere carries a run page's address as referrer.
/// </summary>
public static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    public static void UseSecurityHeaders(this WebApplication app) =>
        app.Use(async (http, next) =>
        {
            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            await next(http);
        });
}
