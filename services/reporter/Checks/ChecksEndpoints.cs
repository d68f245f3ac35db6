using System.Reflection;
using Microsoft.Extensions.Options;
using Slipway.Gerrit;
using Slipway.Reporter.Runs;

namespace Slipway.Reporter.Checks;

/// <summary>
/// What Gerrit's Checks tab asks for: <c>GET /checks/changes/{change}/patchsets/{ps}</c> answers a
/// <c>FetchResponse</c> (see <see cref="CheckRunsComposer"/>), and <c>GET /plugins/slipway-checks.js</c>
/// serves the Gerrit UI plugin that asks it, with this reporter's public URL filled in. The browser calls
/// from Gerrit's pages, so Gerrit's origin (and only it) may read the answer cross-origin.
/// </summary>
public static class ChecksEndpoints
{
    /// <summary>Most runs of one patch set shown (a patch set rechecked more often shows its latest ones).</summary>
    public const int MaxRunsPerPatchset = 50;

    private const string PluginResource = "Slipway.Reporter.plugins.slipway-checks.js";
    private const string UrlPlaceholder = "__SLIPWAY_REPORTER_URL__";

    public static void MapChecks(this WebApplication app)
    {
        app.MapGet("/checks/changes/{change:int}/patchsets/{patchset:int}", async (int change, int patchset, HttpContext http,
            RunLedger ledger, IOptions<ReporterOptions> options, IOptions<GerritOptions> gerrit, CancellationToken ct) =>
        {
            AllowGerritOrigin(http, gerrit.Value);
            if (change < 1 || patchset < 1) return Results.BadRequest("change and patch set are positive numbers");
            var runs = await ledger.OfPatchsetAsync(change, patchset, MaxRunsPerPatchset, ct);
            return Results.Json(CheckRunsComposer.Compose(runs, options.Value), ChecksJson.Options);
        });

        var plugin = PluginSource();
        app.MapGet("/plugins/slipway-checks.js", (IOptions<ReporterOptions> options) =>
            Results.Text(plugin.Replace(UrlPlaceholder, options.Value.PublicUrl.TrimEnd('/'), StringComparison.Ordinal),
                "text/javascript; charset=utf-8"));
    }

    private static void AllowGerritOrigin(HttpContext http, GerritOptions gerrit)
    {
        if (gerrit.Url is null || !Uri.TryCreate(gerrit.Url, UriKind.Absolute, out var url)) return;
        var origin = url.GetLeftPart(UriPartial.Authority);
        if (string.Equals(http.Request.Headers.Origin, origin, StringComparison.OrdinalIgnoreCase))
        {
            http.Response.Headers.AccessControlAllowOrigin = origin;
            http.Response.Headers.Vary = "Origin";
        }
    }

    private static string PluginSource()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(PluginResource)
            ?? throw new InvalidOperationException($"embedded resource {PluginResource} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
