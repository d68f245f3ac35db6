using System.Text;
using Slipway.Artifacts;
using Slipway.Contracts;
using Slipway.Reporter.Dashboard;

namespace Slipway.Reporter.Runs;

/// <summary>
/// <c>/runs/{id}/artifacts/{stage}/{path}</c>: a run artifact as a download. Only a file the run's events listed is
/// served (so no path the request makes up reaches the disk), read from the run artifact directory without
/// following any link, as <c>application/octet-stream</c> with <c>Content-Disposition: attachment</c>. A path
/// <c>&lt;dir&gt;.tar.gz</c> that is no listed file is PipelineLib's archive of a directory (<see cref="DirectoryArchive"/>).
/// </summary>
public static class RunArtifactEndpoints
{
    public static void MapRunArtifacts(this WebApplication app)
    {
        app.MapGet("/runs/{id}/artifacts/{stage}/{**path}", async (string id, string stage, string path, HttpContext http,
            RunArtifactLedger ledger, RunArtifactStore store, CancellationToken ct) =>
        {
            if (id.Length > 200 || stage.Length > 128 || path.Length > 1024) return Results.BadRequest("name too long");
            var listed = await ledger.FindAsync(id, stage, path, ct);
            if (listed is null && path.EndsWith(RunArtifact.DirectoryArchiveSuffix, StringComparison.Ordinal))
            {
                // PipelineLib's `<directory>.tar.gz`, the link `${<stage>.artifactURLs}` gives for an archived directory.
                if (DirectoryArchive.Find(id, stage, path, await ledger.ReadAsync(id, ct), store) is not { } archive)
                    return Results.NotFound($"run {id} kept no artifact {stage}/{path}");
                http.Response.Headers.XContentTypeOptions = "nosniff";
                return Results.Stream(body => archive.WriteAsync(body, ct), "application/gzip", archive.FileName);
            }
            if (listed is null) return Results.NotFound($"run {id} kept no artifact {stage}/{path}");
            var file = store.ArchivedFile(id, stage, listed.Path);
            if (file is null || new FileInfo(file).Length != listed.SizeBytes)
                return Results.NotFound($"the artifact {stage}/{path} of run {id} is no longer kept");
            http.Response.Headers.XContentTypeOptions = "nosniff";
            return Results.File(file, "application/octet-stream", fileDownloadName: listed.Path[(listed.Path.LastIndexOf('/') + 1)..]);
        });
    }

    /// <summary>The run page's list of artifacts, each a download link.</summary>
    public static string Html(string runId, IReadOnlyList<RunArtifactView> artifacts)
    {
        if (artifacts.Count == 0) return "";
        var html = new StringBuilder("<h2>Artifacts</h2><ul id=\"artifacts\">");
        foreach (var a in artifacts)
            html.Append("<li><a href=\"/runs/").Append(Page.Q(runId)).Append("/artifacts/").Append(Page.Q(a.Stage)).Append('/')
                .Append(string.Join('/', a.Path.Split('/').Select(Page.Q))).Append("\" download>").Append(Page.Name(a.Path)).Append("</a> <span class=\"muted\">")
                .Append(a.SizeBytes).Append(" bytes, sha256 <code>").Append(Page.E(a.Sha256)).Append("</code>, from ").Append(Page.Name(a.Step)).Append("</span></li>");
        return html.Append("</ul>").ToString();
    }
}
