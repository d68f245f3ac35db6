using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using Slipway.Reporter.Comments;

namespace Slipway.Reporter.Runs;

/// <summary><c>/runs/{id}</c>: a run's change, steps (state, timing, output excerpt) and image, as HTML or JSON.</summary>
public static class RunStatusEndpoints
{
    public static void MapRunStatus(this WebApplication app)
    {
        app.MapGet("/runs/{id}", async (string id, HttpRequest request, RunLedger ledger, CancellationToken ct) =>
        {
            if (id.Length > 200) return Results.BadRequest("run id too long");
            var run = await ledger.GetAsync(id, ct);
            if (run is null) return Results.NotFound($"no run {id}");
            var wantsJson = request.Query["format"] == "json"
                || request.Headers.Accept.ToString().Contains("application/json", StringComparison.OrdinalIgnoreCase);
            return wantsJson ? Results.Json(run) : Results.Content(Html(run), "text/html; charset=utf-8");
        });
    }

    private static string Html(RunView run)
    {
        static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        var html = new StringBuilder();
        html.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Run ").Append(E(run.RunId)).Append("</title></head><body>");
        html.Append("<h1>").Append(E(run.Project)).Append(run.Change is { } c ? $" change {c}, patch set {run.Patchset}" : "").Append("</h1>");
        html.Append("<p>Pipeline ").Append(E(run.Pipeline)).Append(" (").Append(E(run.TriggerKind)).Append(") at ")
            .Append(E(run.Revision)).Append(": <b>").Append(E(run.Outcome ?? "running")).Append("</b></p>");
        if (run.GerritWait is { } wait)
            html.Append("<p><b>A comment waits for Gerrit</b> since ").Append(E(wait.Since.ToString("u"))).Append(" (")
                .Append(wait.Tries).Append(" tries; last answer: ").Append(E(wait.LastError)).Append("). It is posted once Gerrit answers.</p>");
        if (run.ImageUri is not null)
            html.Append("<p>Image: <code>").Append(E(run.ImageUri)).Append("</code> tags: ").Append(E(string.Join(", ", run.ImageTags ?? []))).Append("</p>");
        html.Append("<table border=\"1\"><tr><th>step</th><th>kind</th><th>state</th><th>duration</th><th>output</th></tr>");
        foreach (var s in run.Steps)
            html.Append("<tr><td>").Append(E($"{s.Stage}/{s.Step}")).Append("</td><td>").Append(E(s.Kind)).Append("</td><td>")
                .Append(E(s.State)).Append("</td><td>").Append(s.DurationMs is { } ms ? E(ReviewComposer.Duration(ms)) : "")
                .Append("</td><td><pre>").Append(E(s.OutputTail ?? s.Reason)).Append("</pre></td></tr>");
        html.Append("</table></body></html>");
        return html.ToString();
    }
}
