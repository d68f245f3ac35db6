using Slipway.Contracts;

namespace Slipway.Runs;

/// <summary>
/// PipelineLib's <c>${&lt;stage&gt;.artifactURLs}</c> (<c>PipelineStage.copy</c>, <c>PipelineRunner.copyFilesFrom</c>): one
/// line per <c>copy</c> entry, in order, joined by <c>\n</c>; an entry without <c>archive: true</c> gives an empty line.
/// An archived file links to its download, <c>&lt;base&gt;/runs/&lt;run&gt;/artifacts/&lt;stage&gt;/&lt;path&gt;</c>; an archived
/// directory (a destination ending in <c>/</c>, the workspace root, or a copy that listed no file at the destination
/// itself) links to <c>&lt;path&gt;.tar.gz</c>, as PipelineLib tarred it, which the reporter builds from the archived files
/// below it. Every path segment is percent-encoded, so no file name can break the URL or add a line.
/// </summary>
public static class ArtifactLinks
{
    /// <param name="baseUrl">The reporter's public URL (the operator's <c>Pipeline:ArtifactBaseUrl</c>).</param>
    /// <param name="copies">The run step's <c>copy</c> entries, in order.</param>
    /// <param name="archived">The workspace paths the step's <c>test.succeeded</c> lists as artifacts.</param>
    public static string Of(string baseUrl, string runId, string stage, IReadOnlyList<RunCopy> copies, IReadOnlySet<string> archived)
    {
        var prefix = $"{RunLinks.StatusPage(baseUrl, runId)}/artifacts/{Uri.EscapeDataString(stage)}/";
        return string.Join('\n', copies.Select(c => c.Archive ? prefix + Encoded(ArchivedPath(c, archived)) : ""));
    }

    /// <summary>The path below the stage's artifacts that one archived entry links to.</summary>
    public static string ArchivedPath(RunCopy copy, IReadOnlySet<string> archived)
    {
        var destination = copy.Destination.TrimEnd('/');
        if (destination == ".") destination = "";
        var isFile = !copy.Destination.EndsWith('/') && destination.Length > 0 && archived.Contains(destination);
        return isFile ? destination : destination + RunArtifact.DirectoryArchiveSuffix;
    }

    private static string Encoded(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
}
