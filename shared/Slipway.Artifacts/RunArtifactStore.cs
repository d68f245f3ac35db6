namespace Slipway.Artifacts;

/// <summary>
/// Where a run's copied files live: <c>&lt;Directory&gt;/&lt;run&gt;/&lt;stage&gt;/</c> holds the workspace paths one
/// stage's run step copied (its <c>copy</c> destinations, relative to the repository root);
/// <c>&lt;run&gt;/.from-&lt;source&gt;/&lt;stage&gt;/</c> holds what a stage copied out of an earlier stage's run container
/// (taken by that stage's run step; a stage name never starts with <c>.</c>, so the two never meet). Each directory
/// appears whole (written aside, then renamed) or not at all, so a reader never sees half a copy.
/// </summary>
public sealed class RunArtifactStore(ArtifactOptions options)
{
    public bool Configured => options.Directory.Length > 0;

    public string NotConfiguredReason =>
        "PipelineLib's `copy` needs the run artifact directory, and Artifacts:Directory is not configured for this service";

    /// <summary>
    /// The finished copy of one stage, or null when there is none: out of its own run container, or, with
    /// <paramref name="fromStage"/>, out of that earlier stage's.
    /// </summary>
    public string? StageDirectory(string runId, string stage, string? fromStage = null)
    {
        var dir = Target(runId, stage, fromStage);
        return Directory.Exists(dir) ? dir : null;
    }

    /// <summary>A fresh directory to write a stage's copy into, published by <see cref="Publish"/>.</summary>
    public string NewStaging(string runId, string stage)
    {
        var staging = Path.Combine(RunDirectory(runId), $".staging-{Checked(stage)}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        return staging;
    }

    /// <summary>Makes the staging directory the stage's copy (out of <paramref name="fromStage"/>'s container when set), replacing an earlier attempt's.</summary>
    public string Publish(string runId, string stage, string staging, string? fromStage = null)
    {
        var target = Target(runId, stage, fromStage);
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true); // a retried step copies again
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        Directory.Move(staging, target);
        return target;
    }

    private string Target(string runId, string stage, string? fromStage) =>
        fromStage is null || fromStage == stage ? Path.Combine(RunDirectory(runId), Checked(stage))
            : Path.Combine(RunDirectory(runId), FromPrefix + Checked(fromStage), Checked(stage));

    private const string FromPrefix = ".from-";

    public static void Discard(string staging)
    {
        try { if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// A file a stage copied, for download: only a regular file reached without any link, inside the stage's copy (its
    /// own first, then those out of earlier stages' containers). Null when there is none.
    /// </summary>
    public string? ArchivedFile(string runId, string stage, string relativePath)
    {
        if (!Configured) return null;
        Checked(stage);
        var roots = new List<string>();
        if (StageDirectory(runId, stage) is { } own) roots.Add(own);
        if (Directory.Exists(RunDirectory(runId)))
            roots.AddRange(new DirectoryInfo(RunDirectory(runId)).EnumerateDirectories(FromPrefix + "*")
                .Where(d => d.LinkTarget is null).Select(d => d.Name).Order(StringComparer.Ordinal)
                .Select(d => Path.Combine(RunDirectory(runId), d, stage)).Where(Directory.Exists));
        return roots.Select(root => ArchivedFileIn(root, relativePath)).FirstOrDefault(f => f is not null);
    }

    private static string? ArchivedFileIn(string root, string relativePath)
    {
        if (new DirectoryInfo(root).LinkTarget is not null) return null;
        var segments = relativePath.Split('/');
        if (segments.Length == 0 || segments.Any(s => s is "" or "." or ".." || s.Contains('\\') || s.Any(char.IsControl))) return null;
        var path = root;
        foreach (var segment in segments)
        {
            path = Path.Combine(path, segment);
            var info = new FileInfo(path);
            if (info.LinkTarget is not null) return null;
        }
        var file = new FileInfo(path);
        return file.Exists && file.LinkTarget is null ? file.FullName : null;
    }

    /// <summary>Removes every file of the run (retention, or the run's end when nothing was archived).</summary>
    public void Remove(string runId)
    {
        try { if (Directory.Exists(RunDirectory(runId))) Directory.Delete(RunDirectory(runId), recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Run ids with files in the store, and when each was last written.</summary>
    public IEnumerable<(string RunId, DateTime LastWriteUtc)> Runs() =>
        !Configured || !Directory.Exists(options.Directory) ? []
            : new DirectoryInfo(options.Directory).EnumerateDirectories()
                .Where(d => d.LinkTarget is null && IsPlainName(d.Name)).Select(d => (d.Name, d.LastWriteTimeUtc));

    private string RunDirectory(string runId)
    {
        if (!Configured) throw new InvalidOperationException(NotConfiguredReason);
        return Path.Combine(options.Directory, Checked(runId));
    }

    // Run ids and stage names come from events: one plain path segment each.
    private static string Checked(string name) =>
        IsPlainName(name) ? name : throw new ArgumentException($"'{name}' is not a valid run id or stage name for the artifact store", nameof(name));

    private static bool IsPlainName(string name) =>
        name.Length is > 0 and <= 200 && name is not ("." or "..") && !name.StartsWith(".staging", StringComparison.Ordinal)
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
