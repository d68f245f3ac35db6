using System.Net;
using System.Text;

namespace Slipway.Reporter.Dashboard;

/// <summary>
/// The dashboard's page frame: plain server-rendered HTML that reads well at a phone's width and without
/// JavaScript; a page may add a small script for live updates. Everything from a run is HTML-encoded here.
/// </summary>
public static class Page
{
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>A query-string value, encoded.</summary>
    public static string Q(string? text) => Uri.EscapeDataString(text ?? "");

    public static string Render(string title, string body, string? script = null)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(E(title)).Append(" · Slipway</title><style>").Append(Css).Append("</style></head><body>")
            .Append("<nav><a href=\"/\"><b>Slipway</b></a> <a href=\"/\">Runs</a> <a href=\"/environments\">Environments</a> <a href=\"/trends\">Trends</a></nav><main>")
            .Append(body).Append("</main>");
        if (script is not null) html.Append("<script>").Append(script).Append("</script>");
        return html.Append("</body></html>").ToString();
    }

    public static string Badge(string state) => $"<span class=\"badge {E(state)}\">{E(state)}</span>";

    public static string Progress(int started, int total) =>
        $"<progress value=\"{started}\" max=\"{Math.Max(total, 1)}\"></progress> <span class=\"muted\">step {started} of {total}</span>";

    public static string Duration(long? ms) => ms is { } v ? Comments.ReviewComposer.Duration(v) : "";

    public static string Time(DateTimeOffset? t) => t is { } v ? $"<time datetime=\"{v:O}\">{v:yyyy-MM-dd HH:mm:ss}Z</time>" : "";

    /// <summary>Reloads the element <paramref name="id"/> from the same URL whenever the stream reports a change.</summary>
    public static string LiveScript(string id, string? runId = null) => $$"""
        (function () {
          if (!window.EventSource) return;
          var source = new EventSource('/api/stream{{(runId is null ? "" : "?run=" + Q(runId))}}');
          var pending = null;
          source.addEventListener('run', function () {
            if (pending) return;
            pending = setTimeout(function () {
              pending = null;
              fetch(location.href, { headers: { 'X-Slipway-Fragment': '{{id}}' } }).then(function (r) { return r.text(); }).then(function (html) {
                var doc = new DOMParser().parseFromString(html, 'text/html');
                var fresh = doc.getElementById('{{id}}');
                if (fresh) document.getElementById('{{id}}').replaceWith(fresh);
              });
            }, 300);
          });
        })();
        """;

    private const string Css = """
        body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
        nav{background:#234;padding:.6em 1em}nav a{color:#fff;margin-right:1em;text-decoration:none}
        main{padding:1em;max-width:70em}table{border-collapse:collapse;width:100%}
        th,td{text-align:left;padding:.35em .5em;border-bottom:1px solid #ddd;vertical-align:top}
        .badge{padding:.1em .5em;border-radius:.8em;font-size:.85em;background:#ddd}
        .succeeded,.granted{background:#cfc}.refused{background:#fcc}.failed{background:#fcc}.running{background:#cdf}.cancelled{background:#eee}.waiting{background:#ffd}
        .muted{color:#666;font-size:.9em}pre{white-space:pre-wrap;word-break:break-word;background:#f0f0f0;padding:.5em;max-height:30em;overflow:auto}
        progress{width:7em}form input,form select{margin:.2em .4em .2em 0}
        code{word-break:break-all}.card{background:#fff;border:1px solid #ddd;border-radius:.4em;padding:.2em .8em;margin:.6em 0}
        .ok{background:#cfc;padding:.5em}.error{background:#fcc;padding:.5em}
        @media (max-width:40em){.wide{display:none}td,th{padding:.3em .2em}main{padding:.5em}}
        """;
}
