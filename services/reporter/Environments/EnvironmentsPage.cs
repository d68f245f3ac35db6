using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using Slipway.Reporter.Dashboard;

namespace Slipway.Reporter.Environments;

/// <summary>
/// <c>GET /environments</c>: for each environment and service what runs now (image, run, change, who approved, when),
/// its configuration-registry history as the deployer reported it, and the approvals waiting; <c>GET /api/environments</c>
/// the same as JSON. Everyone reads it. Approvers approve and roll back with their deployer API token through plain
/// forms (<c>POST /environments/approve</c>, <c>POST /environments/rollback</c>) that this service passes on to the
/// deployer's API (<c>Reporter:DeployerUrl</c>; without it the page is read-only). The deployer decides who may.
/// </summary>
public static class EnvironmentsPage
{
    private const int MaxFormBytes = 16 * 1024;

    public static void MapEnvironmentsPage(this WebApplication app)
    {
        app.MapGet("/api/environments", async (EnvironmentLedger ledger, CancellationToken ct) => Results.Json(await ledger.ReadAsync(ct)));

        app.MapGet("/environments", async (EnvironmentLedger ledger, IOptions<ReporterOptions> options, CancellationToken ct) =>
        {
            var view = await ledger.ReadAsync(ct);
            return Html("Environments", Body(view, !string.IsNullOrEmpty(options.Value.DeployerUrl)), Script);
        });

        app.MapPost("/environments/approve", (HttpRequest request, IServiceProvider services, CancellationToken ct) =>
            ActAsync(request, services, ["run", "environment"], (deployer, form, token) =>
                deployer.ApproveAsync(form["run"], form["environment"], token, ct), form => $"Approve {form["environment"]} for run {form["run"]}", ct));

        app.MapPost("/environments/rollback", (HttpRequest request, IServiceProvider services, CancellationToken ct) =>
            ActAsync(request, services, ["service", "environment"], (deployer, form, token) =>
                deployer.RollBackAsync(form["service"], form["environment"], form.GetValueOrDefault("allAtOnce") == "true", form.GetValueOrDefault("request"),
                    token, ct),
                form => $"Roll back {form["service"]} in {form["environment"]}", ct));
    }

    /// <summary>Reads the form (bounded), passes it with the typed token to the deployer, and shows its answer with the same status.</summary>
    private static async Task<IResult> ActAsync(HttpRequest request, IServiceProvider services, string[] fields,
        Func<DeployerClient, IReadOnlyDictionary<string, string>, string, Task<DeployerClient.Answer>> act,
        Func<IReadOnlyDictionary<string, string>, string> title, CancellationToken ct)
    {
        if (services.GetService<DeployerClient>() is not { } deployer)
            return Outcome("Read-only", "This dashboard does not know the deployer (Reporter:DeployerUrl is not set): approve in Gerrit or with slipway approve.",
                HttpStatusCode.ServiceUnavailable);
        if (!request.HasFormContentType || request.ContentLength is null or > MaxFormBytes)
            return Outcome("Bad request", "want a form of at most 16 KiB", HttpStatusCode.BadRequest);
        var posted = await request.ReadFormAsync(ct);
        var form = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in fields.Append("allAtOnce").Append("request"))
            if (posted[name].ToString() is { Length: > 0 } v) form[name] = v;
        if (fields.FirstOrDefault(f => !form.ContainsKey(f)) is { } missing)
            return Outcome("Bad request", $"the form has no {missing}", HttpStatusCode.BadRequest);
        if (form.Values.Any(v => v.Length > 200 || v.Any(char.IsControl)))
            return Outcome("Bad request", "a field is too long or holds control characters", HttpStatusCode.BadRequest);
        var token = posted["token"].ToString().Trim();
        if (token.Length == 0) return Outcome(title(form), "Type your deployer API token: only approvers' tokens can change this.", HttpStatusCode.Unauthorized);
        if (token.Length > 512 || token.Any(c => c is < '!' or > '~'))
            return Outcome(title(form), "That is not an API token (printable ASCII, at most 512 characters).", HttpStatusCode.Unauthorized);
        var answer = await act(deployer, form, token);
        var message = answer.Status switch
        {
            HttpStatusCode.Unauthorized => "The deployer does not know this token: " + answer.Message,
            HttpStatusCode.Forbidden => "Refused: " + answer.Message,
            _ => answer.Message,
        };
        return Outcome(title(form), message, answer.Status);
    }

    private static IResult Outcome(string title, string message, HttpStatusCode status)
    {
        var ok = (int)status is >= 200 and < 300;
        var body = $"<h1>{Page.E(title)}</h1><p id=\"outcome\" class=\"{(ok ? "ok" : "error")}\" role=\"status\">{Page.E(message)}</p>" +
                   "<p><a href=\"/environments\">Back to the environments</a></p>";
        return Html(title, body, null, (int)status);
    }

    private static IResult Html(string title, string body, string? script, int status = 200) =>
        Results.Content(Page.Render(title, body, script), "text/html; charset=utf-8", statusCode: status);

    private static string Body(EnvironmentsView view, bool canAct)
    {
        var E = Page.E;
        var html = new StringBuilder("<div id=\"environments\"><h1>Environments</h1>");
        if (!canAct) html.Append("<p class=\"muted\">Read-only: approve in Gerrit (<code>approve production</code>) or with <code>slipway approve</code>.</p>");

        html.Append("<h2>Waiting for approval</h2>");
        if (view.Waiting.Count == 0) html.Append("<p class=\"muted\" id=\"nothing-waiting\">nothing waits for an approval</p>");
        foreach (var w in view.Waiting)
        {
            html.Append("<div class=\"card waiting-approval\" data-run=\"").Append(E(w.RunId)).Append("\" data-environment=\"").Append(E(w.Environment)).Append("\">")
                .Append("<p><b>").Append(E(w.Service ?? "?")).Append("</b> to <b>").Append(E(w.Environment)).Append("</b> ").Append(Page.Badge("waiting"))
                .Append("<br>").Append(RunLink(w.RunId, w.Project, w.Change)).Append(" <span class=\"muted\">step ").Append(E($"{w.Stage}/{w.Step}"))
                .Append(", waiting since ").Append(Page.Time(w.RequestedAt)).Append("</span></p>").Append(ImageHtml(w.Image));
            if (w.LastRefusedBy is not null)
                html.Append("<p class=\"muted\">refused by ").Append(E(w.LastRefusedBy)).Append(' ').Append(Page.Time(w.LastRefusedAt)).Append("</p>");
            if (canAct)
                html.Append("<form method=\"post\" action=\"/environments/approve\" class=\"act\">")
                    .Append("<input type=\"hidden\" name=\"run\" value=\"").Append(E(w.RunId)).Append("\">")
                    .Append("<input type=\"hidden\" name=\"environment\" value=\"").Append(E(w.Environment)).Append("\">")
                    .Append(TokenInput()).Append("<button>Approve ").Append(E(w.Environment)).Append("</button></form>");
            html.Append("</div>");
        }

        foreach (var environment in view.Services.GroupBy(s => s.Environment))
        {
            html.Append("<h2>").Append(E(environment.Key)).Append("</h2>");
            foreach (var service in environment)
            {
                var now = service.Current;
                html.Append("<div class=\"card service\" data-environment=\"").Append(E(service.Environment)).Append("\" data-service=\"").Append(E(service.Service))
                    .Append("\"><h3>").Append(E(service.Service)).Append("</h3><p class=\"current\">Runs ")
                    .Append(now.Image?.Tags is [var tag, ..] ? $"<code>{E(tag)}</code>" : "<code>" + E(Short(now.Image?.Digest)) + "</code>")
                    .Append(" from ").Append(RunLink(now.RunId, now.Project, now.Change))
                    .Append(now.ApprovedBy is { } by ? $", approved by <b class=\"approved-by\">{E(by)}</b>" : "")
                    .Append(now.Kind == "rollback" ? $", rolled back to by {E(now.By)}" : "")
                    .Append(", ").Append(Page.Time(now.At)).Append("</p>").Append(ImageHtml(now.Image));
                html.Append("<details><summary>history (").Append(service.History.Count).Append(")</summary><table class=\"history\"><thead><tr>")
                    .Append("<th>when</th><th>what</th><th>image</th><th class=\"wide\">config commit</th></tr></thead><tbody>");
                foreach (var d in service.History)
                    html.Append("<tr><td>").Append(Page.Time(d.At)).Append("</td><td>").Append(E(d.Kind)).Append(' ')
                        .Append(RunLink(d.RunId, d.Project, d.Change))
                        .Append(d.ApprovedBy is { } a ? $"<br><span class=\"muted\">approved by {E(a)}</span>" : "")
                        .Append(d.Kind == "rollback" && d.By is not null ? $"<br><span class=\"muted\">by {E(d.By)}</span>" : "")
                        .Append("</td><td><code>").Append(E(d.Image?.Tags is [var first, ..] ? first : Short(d.Image?.Digest))).Append("</code></td><td class=\"wide\"><code>")
                        .Append(E(Short(d.ConfigRevision))).Append("</code></td></tr>");
                html.Append("</tbody></table></details>");
                if (canAct)
                    // The form's own request key: sent twice (a reload, a double click), it is still one rollback.
                    html.Append("<details class=\"rollback\"><summary>roll back</summary><form method=\"post\" action=\"/environments/rollback\" class=\"act\">")
                        .Append("<input type=\"hidden\" name=\"request\" value=\"").Append(Guid.NewGuid().ToString("N")).Append("\">")
                        .Append("<input type=\"hidden\" name=\"service\" value=\"").Append(E(service.Service)).Append("\">")
                        .Append("<input type=\"hidden\" name=\"environment\" value=\"").Append(E(service.Environment)).Append("\">")
                        .Append(TokenInput()).Append("<label><input type=\"checkbox\" name=\"allAtOnce\" value=\"true\"> all at once</label> ")
                        .Append("<button>Roll back ").Append(E(service.Service)).Append(" in ").Append(E(service.Environment)).Append("</button></form></details>");
                html.Append("</div>");
            }
        }
        if (view.Services.Count == 0) html.Append("<p class=\"muted\">nothing deployed yet</p>");
        return html.Append("</div>").ToString();
    }

    // Typed per action and sent once; the browser is asked not to keep it.
    private static string TokenInput() =>
        "<input type=\"password\" name=\"token\" placeholder=\"your API token\" autocomplete=\"off\" required size=\"18\"> ";

    private static string RunLink(string? runId, string? project, int? change) => runId is null
        ? "<span class=\"muted\">no run</span>"
        : $"<a href=\"/runs/{Page.Q(runId)}\">{Page.E(project ?? "run")}{(change is { } c ? $" change {c}" : "")}</a>";

    private static string ImageHtml(ImageView? image) => image is null ? "" :
        $"<p class=\"image muted\"><code>{Page.E(image.Uri)}</code>{(image.Tags.Count > 0 ? " tags " + string.Join(", ", image.Tags.Select(t => $"<code>{Page.E(t)}</code>")) : "")}" +
        $"{(image.Digest is { } d ? $"<br>digest <code>{Page.E(d)}</code>" : "")}</p>";

    private static string Short(string? sha) => sha is null ? "" : sha.StartsWith("sha256:", StringComparison.Ordinal) ? sha[..19] : sha.Length > 12 ? sha[..12] : sha;

    /// <summary>Live: reloads the page's content on changes, unless the person is typing (<see cref="StaticAssets"/>).</summary>
    private const string Script = "<script src=\"" + StaticAssets.EnvironmentsPath + "\"></script>";
}
