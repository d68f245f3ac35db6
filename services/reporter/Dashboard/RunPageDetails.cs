using System.Globalization;
using System.Text;
using Slipway.Reporter.Environments;
using Slipway.Reporter.Runs;

namespace Slipway.Reporter.Dashboard;

/// <summary>
/// The run page's sections beyond the step table: the execution graph (server-rendered SVG: a column per depth, an
/// arrow from each stage to the stages waiting for it, each box coloured by its state), the images the run made,
/// its approvals and its trace id. Each section is its own method so the page composes them.
/// </summary>
public static class RunPageDetails
{
    public static string Render(RunView run, RunDetailsView details, IReadOnlyList<RunApproval> approvals) =>
        "<div id=\"run-details\">" + Graph(run, details.Graph) + Images(details.Images) + Approvals(approvals) + Trace(details.TraceId) + "</div>";

    /// <summary>A stage's state from its steps: failed if one failed, running if one runs, succeeded when all did.</summary>
    public static string StageState(RunView run, string stage)
    {
        var planned = run.StepsToShow.Where(p => p.Name.StartsWith(stage + "/", StringComparison.Ordinal)).Select(p => p.Name).ToList();
        var steps = run.Steps.Where(s => s.Stage == stage).ToList();
        if (steps.Any(s => s.State == "failed")) return "failed";
        if (steps.Any(s => s.State == "running")) return "running";
        if (planned.Count > 0 && steps.Count(s => s.State == "succeeded") >= planned.Count) return "succeeded";
        if (steps.Count > 0) return "running";
        return run.FinishedAt is null ? "waiting" : "not run";
    }

    public static string Graph(RunView run, IReadOnlyList<StageNode> graph)
    {
        if (graph.Count == 0) return "";
        const int boxW = 150, boxH = 34, gapX = 40, gapY = 14, pad = 4;
        var byName = graph.ToDictionary(n => n.Stage, StringComparer.Ordinal);
        var depth = new Dictionary<string, int>(StringComparer.Ordinal);
        int Depth(string stage, int guard)
        {
            if (depth.TryGetValue(stage, out var d)) return d;
            // The planner refuses cycles; the guard keeps a hostile or old row from recursing forever.
            var deps = guard > graph.Count || !byName.TryGetValue(stage, out var node) ? [] : node.DependsOn.Where(byName.ContainsKey).ToList();
            return depth[stage] = deps.Count == 0 ? 0 : deps.Max(x => Depth(x, guard + 1)) + 1;
        }
        foreach (var n in graph) Depth(n.Stage, 0);
        var columns = graph.GroupBy(n => depth[n.Stage]).OrderBy(g => g.Key).ToList();
        var position = new Dictionary<string, (double X, double Y)>(StringComparer.Ordinal);
        foreach (var column in columns)
        {
            var row = 0;
            foreach (var n in column) position[n.Stage] = (pad + column.Key * (boxW + gapX), pad + row++ * (boxH + gapY));
        }
        var width = pad * 2 + columns.Count * (boxW + gapX) - gapX;
        var height = pad * 2 + columns.Max(c => c.Count()) * (boxH + gapY) - gapY;
        string F(double v) => v.ToString("F0", CultureInfo.InvariantCulture);
        var svg = new StringBuilder($"<h2>Execution graph</h2><svg class=\"graph\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"stages and what each waits for\">");
        svg.Append("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#888\"/></marker></defs>");
        foreach (var n in graph)
            foreach (var dep in n.DependsOn.Where(position.ContainsKey))
            {
                var (fx, fy) = position[dep];
                var (tx, ty) = position[n.Stage];
                svg.Append($"<line class=\"edge\" data-from=\"{Page.E(dep)}\" data-to=\"{Page.E(n.Stage)}\" x1=\"{F(fx + boxW)}\" y1=\"{F(fy + boxH / 2.0)}\" x2=\"{F(tx)}\" y2=\"{F(ty + boxH / 2.0)}\" stroke=\"#888\" marker-end=\"url(#arrow)\"/>");
            }
        foreach (var n in graph)
        {
            var (x, y) = position[n.Stage];
            var state = StageState(run, n.Stage);
            var fill = state switch { "succeeded" => "#cfc", "failed" => "#fcc", "running" => "#cdf", "waiting" => "#ffd", _ => "#eee" };
            var label = n.Stage.Length > 20 ? n.Stage[..19] + "…" : n.Stage;
            svg.Append($"<g class=\"stage\" data-stage=\"{Page.E(n.Stage)}\" data-state=\"{Page.E(state)}\"><title>{Page.E(n.Stage)}: {Page.E(state)}</title>")
                .Append($"<rect x=\"{F(x)}\" y=\"{F(y)}\" width=\"{boxW}\" height=\"{boxH}\" rx=\"6\" fill=\"{fill}\" stroke=\"#999\"/>")
                .Append($"<text x=\"{F(x + 8)}\" y=\"{F(y + 15)}\" font-size=\"12\" font-weight=\"bold\">{Page.E(label)}</text>")
                .Append($"<text x=\"{F(x + 8)}\" y=\"{F(y + 28)}\" font-size=\"10\" fill=\"#555\">{Page.E(state)}</text></g>");
        }
        return svg.Append("</svg>").ToString();
    }

    public static string Images(IReadOnlyList<RunImageView> images)
    {
        if (images.Count == 0) return "";
        var html = new StringBuilder("<h2>Images</h2><ul id=\"images\">");
        foreach (var i in images)
        {
            html.Append("<li data-step=\"").Append(Page.E(i.Step)).Append("\"><b>").Append(Page.E(i.Kind)).Append("</b> by ").Append(Page.E(i.Step)).Append(": ");
            if (i.Kind == "published")
                html.Append("<code>").Append(Page.E(i.Uri)).Append("</code>")
                    .Append(i.Tags.Count > 0 ? " tags " + string.Join(", ", i.Tags.Select(t => $"<code>{Page.E(t)}</code>")) : "")
                    .Append(i.Digest is { } d ? $"<br>digest <code>{Page.E(d)}</code>" : "");
            else
                html.Append("<code>").Append(Page.E(i.ImageRef)).Append("</code>").Append(i.ImageId is { } id ? $" <span class=\"muted\">id <code>{Page.E(id)}</code></span>" : "");
            html.Append("</li>");
        }
        return html.Append("</ul>").ToString();
    }

    public static string Approvals(IReadOnlyList<RunApproval> approvals)
    {
        if (approvals.Count == 0) return "";
        var html = new StringBuilder("<h2>Approvals</h2><ul id=\"approvals\">");
        foreach (var a in approvals)
        {
            html.Append("<li data-environment=\"").Append(Page.E(a.Environment)).Append("\">").Append(Page.E(a.Environment))
                .Append(a.Service is { } s ? $" ({Page.E(s)})" : "").Append(' ').Append(Page.Badge(a.State));
            if (a.State == "granted") html.Append(" by <b>").Append(Page.E(a.DecidedBy)).Append("</b> via ").Append(Page.E(a.DecidedVia)).Append(' ').Append(Page.Time(a.DecidedAt));
            else if (a.DecidedBy is not null) html.Append(" <span class=\"muted\">last refusal: ").Append(Page.E(a.DecidedBy)).Append(' ').Append(Page.Time(a.DecidedAt)).Append("</span>");
            if (a.RequestedAt is { } r) html.Append(" <span class=\"muted\">asked ").Append(Page.Time(r)).Append("</span>");
            if (a.State == "waiting") html.Append(" <a href=\"/environments\">approve</a>");
            html.Append("</li>");
        }
        return html.Append("</ul>").ToString();
    }

    public static string Trace(string? traceId) => traceId is null ? "" :
        $"<p class=\"muted\">trace <code id=\"trace-id\">{Page.E(traceId)}</code> (the run's spans in every service carry it, and so do the services' JSON log lines)</p>";
}
