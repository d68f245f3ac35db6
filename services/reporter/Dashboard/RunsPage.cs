using System.Text;
using Microsoft.Extensions.Options;
using Slipway.Reporter.Runs;

namespace Slipway.Reporter.Dashboard;

/// <summary>
/// <c>GET /</c>: every run, newest first, filterable by project, change, branch and state (the same filters as
/// <c>/api/runs</c>), each with its trigger, pipeline and progress ("step 3 of 7"); updated live while open.
/// </summary>
public static class RunsPage
{
    public static void MapRunsPage(this WebApplication app)
    {
        app.MapGet("/", async (HttpRequest request, RunLedger ledger, IOptions<ReporterOptions> options, CancellationToken ct) =>
        {
            var (filter, error) = RunsApiEndpoints.Parse(request.Query);
            if (error is not null) return Results.Content(Page.Render("Runs", $"<p>{Page.E(error)}</p>"), "text/html; charset=utf-8", statusCode: 400);
            var runs = await ledger.ListAsync(filter!, ct);
            return Results.Content(Page.Render("Runs", Body(filter!, runs), Page.LiveScript("runs")), "text/html; charset=utf-8");
        });
    }

    private static string Body(RunFilter filter, IReadOnlyList<RunView> runs)
    {
        var html = new StringBuilder("<h1>Runs</h1>");
        html.Append("<form method=\"get\" action=\"/\">")
            .Append($"<input name=\"project\" placeholder=\"project\" value=\"{Page.E(filter.Project)}\">")
            .Append($"<input name=\"change\" placeholder=\"change\" inputmode=\"numeric\" size=\"6\" value=\"{filter.Change}\">")
            .Append($"<input name=\"branch\" placeholder=\"branch\" size=\"10\" value=\"{Page.E(filter.Branch)}\">")
            .Append("<select name=\"state\"><option value=\"\">any state</option>");
        foreach (var state in new[] { "running", "succeeded", "failed", "cancelled" })
            html.Append($"<option{(filter.State == state ? " selected" : "")}>{state}</option>");
        html.Append("</select><button>Filter</button></form>");
        html.Append("<table id=\"runs\"><thead><tr><th>run</th><th>state</th><th>progress</th><th class=\"wide\">trigger</th><th class=\"wide\">started</th></tr></thead><tbody>");
        if (runs.Count == 0) html.Append("<tr><td colspan=\"5\" class=\"muted\">no runs</td></tr>");
        foreach (var run in runs)
        {
                var what = run.Change is { } c ? $"change {c},{run.Patchset}" : run.Branch ?? run.Ref;
            html.Append("<tr data-run=\"").Append(Page.E(run.RunId)).Append("\"><td><a href=\"/runs/").Append(Page.Q(run.RunId)).Append("\">")
                .Append(Page.E(run.Project)).Append(' ').Append(Page.E(what)).Append("</a><br><span class=\"muted\">")
                .Append(Page.E(run.Pipeline)).Append("</span></td><td>").Append(Page.Badge(run.State)).Append("</td><td>")
                .Append(Page.Progress(run.StepsStarted, run.StepsTotal));
            if (run.CurrentStep is { } current) html.Append("<br><span class=\"muted\">").Append(Page.E(current)).Append("</span>");
            html.Append("</td><td class=\"wide\">").Append(Page.E(run.TriggerKind)).Append("</td><td class=\"wide\">")
                .Append(Page.Time(run.StartedAt)).Append("</td></tr>");
        }
        html.Append("</tbody></table>");
        if (runs.Count == filter.Limit)
            html.Append($"<p><a href=\"/?project={Page.Q(filter.Project)}&branch={Page.Q(filter.Branch)}&state={Page.Q(filter.State)}")
                .Append($"{(filter.Change is { } ch ? $"&change={ch}" : "")}&before={Page.Q(runs[^1].StartedAt.ToString("O"))}\">older runs</a></p>");
        return html.ToString();
    }
}
