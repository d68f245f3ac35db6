namespace Slipway.Reporter.Dashboard;

/// <summary>
/// The dashboard's style sheet and scripts as files of their own (<c>/static/…</c>), so the Content-Security-Policy
/// can forbid every inline script and style (<see cref="SecurityHeaders"/>). A page passes what a script needs in
/// <c>data-</c> attributes of its <c>&lt;script&gt;</c> tag, HTML-encoded like all other values.
/// </summary>
public static class StaticAssets
{
    public const string CssPath = "/static/slipway.css";
    public const string LivePath = "/static/live.js";
    public const string EnvironmentsPath = "/static/environments.js";

    public static void MapStaticAssets(this WebApplication app)
    {
        app.MapGet(CssPath, () => Results.Text(Css, "text/css; charset=utf-8"));
        app.MapGet(LivePath, () => Results.Text(LiveScript, "text/javascript; charset=utf-8"));
        app.MapGet(EnvironmentsPath, () => Results.Text(EnvironmentsScript, "text/javascript; charset=utf-8"));
    }

    public const string Css = """
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
        svg.graph{max-width:100%;height:auto}
        @media (max-width:40em){.wide{display:none}td,th{padding:.3em .2em}main{padding:.5em}}
        """;

    /// <summary>
    /// Reloads the element named by the tag's <c>data-fragment</c> from the same URL whenever the stream reports a
    /// change (of the run in <c>data-run</c>, if set).
    /// </summary>
    private const string LiveScript = """
        (function () {
          var me = document.currentScript;
          if (!window.EventSource || !me) return;
          var id = me.getAttribute('data-fragment');
          var run = me.getAttribute('data-run');
          var source = new EventSource('/api/stream' + (run ? '?run=' + encodeURIComponent(run) : ''));
          var pending = null;
          source.addEventListener('run', function () {
            if (pending) return;
            pending = setTimeout(function () {
              pending = null;
              fetch(location.href, { headers: { 'X-Slipway-Fragment': id } }).then(function (r) { return r.text(); }).then(function (html) {
                var doc = new DOMParser().parseFromString(html, 'text/html');
                var fresh = doc.getElementById(id);
                var here = document.getElementById(id);
                if (!fresh || !here) return;
                // A log the person opened (or closed) stays so: the fresh copy takes each keyed <details>' state.
                var open = {};
                here.querySelectorAll('details[data-key]').forEach(function (d) { open[d.getAttribute('data-key')] = d.open; });
                fresh.querySelectorAll('details[data-key]').forEach(function (d) {
                  var key = d.getAttribute('data-key');
                  if (Object.prototype.hasOwnProperty.call(open, key)) d.open = open[key];
                });
                here.replaceWith(fresh);
              });
            }, 300);
          });
        })();
        """;

    /// <summary>Live: reloads the page's content on changes, unless the person is typing a token or has a form open (their input stays).</summary>
    private const string EnvironmentsScript = """
        (function () {
          if (!window.EventSource) return;
          var source = new EventSource('/api/stream');
          var pending = null;
          // A person at work on the page (a token typed, a form opened, a field focused) keeps it as it is.
          function typing() {
            var root = document.getElementById('environments');
            return Array.prototype.some.call(document.querySelectorAll('input[name=token]'), function (i) { return i.value.length > 0; })
              || (root && (root.querySelector('details[open]') || root.contains(document.activeElement)));
          }
          source.addEventListener('run', function () {
            if (pending || typing()) return;
            pending = setTimeout(function () {
              pending = null;
              fetch(location.href).then(function (r) { return r.text(); }).then(function (html) {
                if (typing()) return;
                var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('environments');
                if (fresh) document.getElementById('environments').replaceWith(fresh);
              });
            }, 300);
          });
        })();
        """;
}
