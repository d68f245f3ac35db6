using System.Formats.Tar;
using System.IO.Compression;
using Slipway.Artifacts;
using Slipway.Contracts;

namespace Slipway.Reporter.Runs;

/// <summary>
/// PipelineLib's <c>&lt;destination&gt;.tar.gz</c> of an archived directory (<see cref="RunArtifact.DirectoryArchiveSuffix"/>):
/// the run's listed artifacts below that directory, each read as the single-file download reads it (a regular file
/// reached without any link, of its listed size), tarred with names relative to the directory and gzipped while it is
/// sent. Bounded by what the tester kept (<c>Artifacts:MaxBytesPerStep</c>, <see cref="RunArtifact.MaxPerStep"/>).
/// </summary>
public sealed class DirectoryArchive
{
    private readonly IReadOnlyList<(string Name, string File, long Size)> _entries;

    private DirectoryArchive(string fileName, IReadOnlyList<(string, string, long)> entries)
    {
        FileName = fileName;
        _entries = entries;
    }

    /// <summary>The download's file name: the directory's last segment with <c>.tar.gz</c>.</summary>
    public string FileName { get; }

    /// <summary>
    /// The archive <paramref name="path"/> names (<c>&lt;dir&gt;.tar.gz</c>, or <c>.tar.gz</c> for the workspace root), or
    /// null when the run lists no file below that directory or one of them is no longer kept.
    /// </summary>
    public static DirectoryArchive? Find(string runId, string stage, string path, IReadOnlyList<RunArtifactView> listed, RunArtifactStore store)
    {
        if (!path.EndsWith(RunArtifact.DirectoryArchiveSuffix, StringComparison.Ordinal)) return null;
        var directory = path[..^RunArtifact.DirectoryArchiveSuffix.Length];
        if (directory.EndsWith('/')) return null;
        var prefix = directory.Length == 0 ? "" : directory + "/";
        var entries = new List<(string, string, long)>();
        foreach (var a in listed.Where(a => a.Stage == stage && a.Path.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(a => a.Path, StringComparer.Ordinal))
        {
            var file = store.ArchivedFile(runId, stage, a.Path);
            if (file is null || new FileInfo(file).Length != a.SizeBytes) return null;
            entries.Add((a.Path[prefix.Length..], file, a.SizeBytes));
        }
        if (entries.Count == 0) return null;
        var name = (directory.Length == 0 ? stage : directory[(directory.LastIndexOf('/') + 1)..]) + RunArtifact.DirectoryArchiveSuffix;
        return new DirectoryArchive(name, entries);
    }

    /// <summary>Writes the gzipped tar to <paramref name="body"/>, asynchronously (the server refuses synchronous writes).</summary>
    public async Task WriteAsync(Stream body, CancellationToken ct)
    {
        var gzip = new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true);
        await using (gzip.ConfigureAwait(false))
        {
            var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true);
            await using (tar.ConfigureAwait(false))
            {
                foreach (var (name, file, size) in _entries)
                {
                    var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
                    await using (stream.ConfigureAwait(false))
                    {
                        // A retried step may have replaced the copy since it was listed: never send other bytes under this name.
                        if (stream.Length != size) throw new IOException($"the artifact {name} changed while it was archived");
                        var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
                        {
                            DataStream = stream,
                            Mode = OperatingSystem.IsWindows() || (File.GetUnixFileMode(file) & UnixFileMode.UserExecute) == 0
                                ? (UnixFileMode)0b110_100_100 : (UnixFileMode)0b111_101_101,
                            ModificationTime = File.GetLastWriteTimeUtc(file),
                        };
                        await tar.WriteEntryAsync(entry, ct).ConfigureAwait(false);
                    }
                }
            }
        }
    }
}
