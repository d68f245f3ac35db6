using System.Globalization;
using System.Text;
using Slipway.Reporter.Runs;

namespace Slipway.Reporter.Dashboard;

/// <summary>
/// <c>GET /trends?project=P</c>: the durations of a project's last finished runs, and of their steps, as small
/// server-rendered SVG charts (oldest left), so a slowing build is seen, not read. Without a project: a list of
/// the projects with recent runs.
/// </summary>
public static class TrendsPage
{
    public const int Runs = 50;

    public static void MapTrendsPage(this WebApplication app)
    {
        app.MapGet("/trends", async (string? project, RunLedger ledger, CancellationToken ct) =>
        {
            if (project is { Length: > 255 }) return Results.BadRequest("project too long");
            var finished = (await ledger.ListAsync(new RunFilter(project, null, null, null, null, RunsApiEndpoints.MaxLimit), ct))
                .Where(r => r.FinishedAt is not null).ToList();
            var body = new StringBuilder("<h1>Trends</h1>");
            if (project is null)
            {
                body.Append("<ul>");
                foreach (var p in finished.Select(r => r.Project).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
                    body.Append($"<li><a href=\"/trends?project={Page.Q(p)}\">{Page.E(p)}</a></li>");
                body.Append("</ul>");
            }
            else
            {
                var runs = finished.Take(Runs).Reverse().ToList();
                body.Append("<h2>").Append(Page.E(project)).Append(": run duration (s), last ").Append(runs.Count).Append(" runs</h2>");
                body.Append(Chart(runs.Select(r => (r.FinishedAt!.Value - r.StartedAt).TotalSeconds).ToList()));
                foreach (var step in runs.SelectMany(r => r.Steps).Select(s => $"{s.Stage}/{s.Step}").Distinct(StringComparer.Ordinal).Take(10))
                {
                    var values = runs.Select(r => r.Steps.FirstOrDefault(s => $"{s.Stage}/{s.Step}" == step)?.DurationMs / 1000.0)
                        .Where(v => v is not null).Select(v => v!.Value).ToList();
                    body.Append("<h3>").Append(Page.E(step)).Append(" (s)</h3>").Append(Chart(values));
                }
            }
            return Results.Content(Page.Render("Trends", body.ToString()), "text/html; charset=utf-8");
        });
    }

    /// <summary>A line chart of <paramref name="values"/> (oldest first) with its maximum and latest value labelled.</summary>
    public static string Chart(IReadOnlyList<double> values)
    {
        const int width = 600, height = 120, pad = 4;
        if (values.Count == 0) return "<p class=\"muted\">no finished runs yet</p>";
        var max = Math.Max(values.Max(), 0.001);
        string X(int i) => (pad + (values.Count == 1 ? 0 : i * (width - 2.0 * pad) / (values.Count - 1))).ToString("F1", CultureInfo.InvariantCulture);
        string Y(double v) => (height - pad - v / max * (height - 2.0 * pad)).ToString("F1", CultureInfo.InvariantCulture);
        var points = string.Join(' ', values.Select((v, i) => $"{X(i)},{Y(v)}"));
        return $"<svg class=\"trend\" viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" aria-label=\"max {max:F1} s, latest {values[^1]:F1} s\">" +
               $"<polyline fill=\"none\" stroke=\"#36c\" stroke-width=\"2\" points=\"{points}\"/>" +
               string.Concat(values.Select((v, i) => $"<circle cx=\"{X(i)}\" cy=\"{Y(v)}\" r=\"2.5\" fill=\"#36c\"><title>{v:F1} s</title></circle>")) +
               $"<text x=\"{pad}\" y=\"12\" font-size=\"11\">max {max.ToString("F1", CultureInfo.InvariantCulture)} s, latest {values[^1].ToString("F1", CultureInfo.InvariantCulture)} s</text></svg>";
    }
}
