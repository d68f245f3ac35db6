using System.Text;
using Microsoft.Extensions.Options;
using Slipway.Gerrit;
using Slipway.Reporter.Dashboard;
using Slipway.Reporter.Environments;

namespace Slipway.Reporter.Runs;

/// <summary>
/// <c>/runs/{id}</c>: a run's change, trigger, stages and steps (state, attempt, start, duration, output), image and
/// notes, as HTML (live while open) or JSON; <c>/runs/{id}/log/{stage}/{step}</c>: a step's output as plain text.
/// </summary>
public static class RunStatusEndpoints
{
    public static void MapRunStatus(this WebApplication app)
    {
        app.MapGet("/runs/{id}", async (string id, HttpRequest request, RunLedger ledger, RunDetails details, EnvironmentLedger environments,
            RunArtifactLedger artifacts, IOptions<GerritOptions> gerrit, CancellationToken ct) =>
        {
            if (id.Length > 200) return Results.BadRequest("run id too long");
            var run = await ledger.GetAsync(id, ct);
            if (run is null) return Results.NotFound($"no run {id}");
            var wantsJson = request.Query["format"] == "json"
                || request.Headers.Accept.ToString().Contains("application/json", StringComparison.OrdinalIgnoreCase);
            return wantsJson
                ? Results.Json(run)
                : Results.Content(Page.Render($"Run {run.RunId}", Html(run, gerrit.Value.Url,
                    RunPageDetails.Render(run, await details.ReadAsync(run.RunId, ct), await environments.OfRunAsync(run.RunId, ct))
                    + RunArtifactEndpoints.Html(run.RunId, await artifacts.ReadAsync(run.RunId, ct))),
                    Page.LiveScript("run", run.RunId)), "text/html; charset=utf-8");
        });

        app.MapGet("/runs/{id}/log/{stage}/{step}", async (string id, string stage, string step, RunLedger ledger, CancellationToken ct) =>
        {
            if (id.Length > 200 || stage.Length > 128 || step.Length > 128) return Results.BadRequest("name too long");
            var run = await ledger.GetAsync(id, ct);
            var found = run?.Steps.FirstOrDefault(s => s.Stage == stage && s.Step == step);
            if (found is null) return Results.NotFound($"no step {stage}/{step} in run {id}");
            var text = found.OutputTail ?? found.Reason ?? "";
            return Results.File(Encoding.UTF8.GetBytes(text), "text/plain; charset=utf-8", $"{id}-{stage}-{step}.log");
        });
    }

    private static string Html(RunView run, string? gerritUrl, string detailsHtml)
    {
        var E = Page.E;
        var html = new StringBuilder("<div id=\"run\">");
        html.Append("<h1>").Append(E(run.Project)).Append(run.Change is { } c ? $" change {c}, patch set {run.Patchset}" : $" {E(run.Branch ?? run.Ref)}").Append("</h1>");
        html.Append("<p>").Append(Page.Badge(run.State)).Append(' ').Append(Page.Progress(run.StepsStarted, run.StepsTotal)).Append("</p>");
        html.Append("<p>Pipeline <b>").Append(E(run.Pipeline)).Append("</b>, ").Append(E(run.TriggerKind)).Append(" at <code>")
            .Append(E(run.Revision)).Append("</code>, started ").Append(Page.Time(run.StartedAt));
        if (run.FinishedAt is { } f) html.Append(", finished ").Append(Page.Time(f));
        html.Append("</p>");
        if (run.Change is { } change && gerritUrl is not null)
            html.Append($"<p><a href=\"{E(gerritUrl.TrimEnd('/'))}/c/{E(run.Project)}/+/{change}\">Change {change} in Gerrit</a></p>");
        if (run.Reason is not null) html.Append("<p><b>Reason:</b> ").Append(E(run.Reason)).Append("</p>");
        if (run.GerritWait is { } wait)
            html.Append("<p><b>A comment waits for Gerrit</b> since ").Append(Page.Time(wait.Since)).Append(" (")
                .Append(wait.Tries).Append(" tries; last answer: ").Append(E(wait.LastError)).Append("). It is posted once Gerrit answers.</p>");
        if (run.Images.Count > 1)
            foreach (var i in run.Images) // every image the run published, as its final comment lists them
                html.Append("<p class=\"published\">Image of ").Append(E($"{i.Stage}/{i.Step}")).Append(": <code>").Append(E(i.Image.Uri))
                    .Append("</code> tags: ").Append(E(string.Join(", ", i.Image.Tags))).Append(" digest <code>").Append(E(i.Image.Digest)).Append("</code></p>");
        else if (run.ImageUri is not null)
            html.Append("<p>Image: <code>").Append(E(run.ImageUri)).Append("</code> tags: ").Append(E(string.Join(", ", run.ImageTags ?? [])))
                .Append(run.ImageDigest is { } d ? $" digest <code>{E(d)}</code>" : "").Append("</p>");
        foreach (var note in run.Notes) html.Append("<p class=\"muted\">").Append(E(note)).Append("</p>");

        // Stages in plan order, each with its planned steps (started or not).
        var planned = run.StepsToShow;
        var recorded = run.Steps.ToDictionary(s => $"{s.Stage}/{s.Step}", StringComparer.Ordinal);
        html.Append("<table id=\"steps\"><thead><tr><th>step</th><th>state</th><th class=\"wide\">attempt</th><th class=\"wide\">started</th><th>duration</th></tr></thead><tbody>");
        foreach (var stage in planned.GroupBy(p => p.Name[..p.Name.IndexOf('/')]))
        {
            html.Append("<tr><th colspan=\"5\">stage ").Append(E(stage.Key)).Append("</th></tr>");
            foreach (var p in stage)
            {
                recorded.TryGetValue(p.Name, out var s);
                var state = s?.State ?? (run.FinishedAt is null ? "waiting" : "not run");
                html.Append("<tr data-step=\"").Append(E(p.Name)).Append("\"><td>").Append(E(p.Name[(stage.Key.Length + 1)..])).Append(" <span class=\"muted\">")
                    .Append(E(p.Kind)).Append("</span></td><td>").Append(Page.Badge(state)).Append("</td><td class=\"wide\">").Append(s?.Attempt)
                    .Append("</td><td class=\"wide\">").Append(Page.Time(s?.StartedAt)).Append("</td><td>").Append(Page.Duration(s?.DurationMs)).Append("</td></tr>");
                if (s?.OutputTail is { Length: > 0 } || s?.Reason is not null)
                    html.Append("<tr><td colspan=\"5\"><details data-key=\"log:").Append(E(p.Name)).Append('"').Append(s.State == "failed" ? " open" : "").Append("><summary>output</summary><pre class=\"log\">")
                        .Append(E(s.OutputTail ?? s.Reason)).Append("</pre><a href=\"/runs/").Append(Page.Q(run.RunId)).Append("/log/")
                        .Append(Page.Q(s.Stage)).Append('/').Append(Page.Q(s.Step)).Append("\">download</a></details></td></tr>");
            }
        }
        html.Append("</tbody></table>").Append(detailsHtml).Append("<p class=\"muted\">run ").Append(E(run.RunId)).Append("</p></div>");
        return html.ToString();
    }
}
