using System.Formats.Tar;
using System.Security.Cryptography;
using Docker.DotNet;
using Docker.DotNet.Models;
using Slipway.Artifacts;
using Slipway.Contracts;

namespace Slipway.Tester.Copying;

/// <summary>
/// PipelineLib's <c>copy</c> (<c>docker cp</c>) out of a run step's stopped container, through the engine's archive
/// API. The tar is the uploader's content and is treated as hostile: only directories and regular files are taken
/// (a link or a device file fails the copy), every name must stay below the copied path, and the bytes and entries
/// of the whole step are bounded. Everything is written below <paramref name="staging"/> only, a fresh directory
/// this service made, which holds nothing but what is written here (so no link can redirect a write).
/// </summary>
public sealed class ContainerFileCopier(IDockerClient docker, ArtifactOptions options)
{
    /// <summary>Copies every entry; the reason on the first breach or missing source, else null.</summary>
    public Task<CopyOutcome> CopyAsync(string containerId, IReadOnlyList<RunCopy> copies, string staging, CancellationToken ct) =>
        CopyAsync(containerId, [new CopyGroup(null, copies, staging)], ct);

    /// <summary>
    /// Copies every group's entries, each group into its own staging directory, within one allowance for the whole
    /// step (the bytes and files taken out of this container); the reason on the first breach or missing source.
    /// </summary>
    public async Task<CopyOutcome> CopyAsync(string containerId, IReadOnlyList<CopyGroup> groups, CancellationToken ct)
    {
        var budget = new Budget(options.MaxBytesPerStep, options.MaxFilesPerStep);
        var kept = new List<RunArtifact>();
        foreach (var group in groups)
        {
            var what = group.Stage is null ? "copy" : $"stage `{group.Stage}`'s copy";
            var archived = new Dictionary<string, RunArtifact>(StringComparer.Ordinal);
            foreach (var copy in group.Copies)
            {
                GetArchiveFromContainerResponse response;
                try
                {
                    response = await docker.Containers.GetArchiveFromContainerAsync(containerId,
                        new GetArchiveFromContainerParameters { Path = copy.Source }, false, ct).ConfigureAwait(false);
                }
                catch (DockerContainerNotFoundException)
                {
                    return CopyOutcome.Failed($"{what}: the run container is gone before `{copy.Source}` was copied");
                }
                catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
                {
                    return CopyOutcome.Failed($"{what}: `{copy.Source}` does not exist in the run container");
                }
                await using var stream = response.Stream;
                try
                {
                    var reason = await ExtractAsync(stream, copy, group.Staging, budget, copy.Archive ? archived : null, ct).ConfigureAwait(false);
                    if (reason is not null) return CopyOutcome.Failed($"{what} of `{copy.Source}`: {reason}");
                }
                catch (IOException e) when (e is not EndOfStreamException)
                {
                    // e.g. a file copied where an earlier entry made a directory, or the other way round.
                    return CopyOutcome.Failed($"{what} of `{copy.Source}` to `{copy.Destination}`: {e.Message}");
                }
            }
            kept.AddRange(archived.Values.OrderBy(a => a.Path, StringComparer.Ordinal).Select(a => group.Stage is null ? a : a with { Stage = group.Stage }));
        }
        if (kept.Count > RunArtifact.MaxPerStep)
            return CopyOutcome.Failed($"copy: more than {RunArtifact.MaxPerStep} files with `archive: true` in one step");
        return new CopyOutcome(null, kept);
    }

    /// <summary>
    /// One copy's tar (as the engine's archive API sends it: entries named from the copied path's last segment) into
    /// <paramref name="staging"/>, within <paramref name="limits"/>; the reason it was refused, else null.
    /// </summary>
    public static Task<string?> ExtractAsync(Stream tar, RunCopy copy, string staging, ArtifactOptions limits,
        IDictionary<string, RunArtifact>? archived, CancellationToken ct) =>
        ExtractAsync(tar, copy, staging, new Budget(limits.MaxBytesPerStep, limits.MaxFilesPerStep), archived, ct);

    private static async Task<string?> ExtractAsync(Stream tar, RunCopy copy, string staging, Budget budget,
        IDictionary<string, RunArtifact>? archived, CancellationToken ct)
    {
        try
        {
            return await ExtractEntriesAsync(tar, copy, staging, budget, archived, ct).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            // e.g. a name with a line break, which the tar reader refuses in an extended header.
            return $"the engine's archive is not a valid tar ({e.Message})";
        }
    }

    private static async Task<string?> ExtractEntriesAsync(Stream tar, RunCopy copy, string staging, Budget budget,
        IDictionary<string, RunArtifact>? archived, CancellationToken ct)
    {
        var root = Path.GetFullPath(staging);
        var destination = copy.Destination.TrimEnd('/');
        if (destination == ".") destination = "";
        var intoDirectory = copy.Destination.EndsWith('/');
        using var reader = new TarReader(tar, leaveOpen: true);
        string? top = null;
        var sourceIsDirectory = false;
        var entries = 0;
        while (await reader.GetNextEntryAsync(copyData: false, ct).ConfigureAwait(false) is { } entry)
        {
            if (!budget.TakeEntry())
                return $"more than {budget.MaxFiles} files and directories in this step's copies (Artifacts:MaxFilesPerStep)";
            var name = entry.Name.TrimEnd('/');
            if (UnsafeName(name) is { } why) return $"the archive entry `{Shown(entry.Name)}` {why}";
            var slash = name.IndexOf('/');
            var first = slash < 0 ? name : name[..slash];
            var rest = slash < 0 ? "" : name[(slash + 1)..];
            if (top is null)
            {
                top = first;
                sourceIsDirectory = entry.EntryType == TarEntryType.Directory;
            }
            else if (first != top || !sourceIsDirectory)
                return $"the archive entry `{Shown(entry.Name)}` is outside the copied path";
            entries++;

            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                case TarEntryType.RegularFile:
                case TarEntryType.V7RegularFile:
                case TarEntryType.ContiguousFile:
                    break;
                case TarEntryType.HardLink:
                    break;
                case TarEntryType.SymbolicLink:
                    return $"`{Shown(copy.Source.TrimEnd('/') + (rest.Length > 0 ? "/" + rest : ""))}` is a link (to `{Shown(entry.LinkName)}`): links are not copied";
                default:
                    return $"`{Shown(copy.Source.TrimEnd('/') + (rest.Length > 0 ? "/" + rest : ""))}` is a {entry.EntryType} entry: only files and directories are copied";
            }

            // Where the entry lands, relative to the workspace root.
            if (Landing(rest, top!) is not { } relative) return $"the archive entry `{Shown(entry.Name)}` leads outside the destination";
            var full = Path.GetFullPath(Path.Combine(root, relative));
            if (relative.Length == 0 && !sourceIsDirectory) return "a file cannot replace the workspace's root";
            // An archived name reaches the run page, downloads, links and Gerrit: refused like a link or a limit, so the
            // step fails naming it and nothing of the step is kept.
            if (archived is not null && entry.EntryType != TarEntryType.Directory && HostileCharacters.Find(relative) is { } hostile)
                return $"`{Shown(relative)}` is not archived: its name contains {hostile} ({HostileNameRule})";

            if (entry.EntryType == TarEntryType.HardLink)
            {
                // A second name of a file copied before (the engine writes each inode once): copied again from there.
                var target = entry.LinkName?.TrimEnd('/') ?? "";
                var targetSlash = target.IndexOf('/');
                if (UnsafeName(target) is not null || (targetSlash < 0 ? target : target[..targetSlash]) != top
                    || Landing(targetSlash < 0 ? "" : target[(targetSlash + 1)..], top!) is not { } earlier
                    || new FileInfo(Path.Combine(root, earlier)) is not { Exists: true, LinkTarget: null } earlierFile)
                    return $"the archive entry `{Shown(entry.Name)}` links to `{Shown(entry.LinkName)}`, which is not a file copied before it";
                if (!budget.TakeBytes(earlierFile.Length))
                    return $"more than {budget.MaxBytes} bytes in this step's copies (Artifacts:MaxBytesPerStep)";
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                if (Directory.Exists(full)) return $"`{relative}` is already a directory of an earlier copy";
                earlierFile.CopyTo(full, overwrite: true);
                if (archived is not null && archived.TryGetValue(earlier, out var same)) archived[relative] = same with { Path = relative };
                continue;
            }

            if (entry.EntryType == TarEntryType.Directory)
            {
                Directory.CreateDirectory(full);
                continue;
            }
            if (!budget.TakeBytes(entry.Length))
                return $"more than {budget.MaxBytes} bytes in this step's copies (Artifacts:MaxBytesPerStep)";
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            if (Directory.Exists(full)) return $"`{relative}` is already a directory of an earlier copy";
            var executable = (entry.Mode & UnixFileMode.UserExecute) != 0;
            await using (var file = new FileStream(full, FileMode.Create, FileAccess.Write))
            {
                // Only the executable bit travels: no setuid, setgid, sticky or world-writable files from the container.
                if (!OperatingSystem.IsWindows())
                    File.SetUnixFileMode(full, executable ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100);
                using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                if (entry.DataStream is { } data)
                {
                    var buffer = new byte[81920];
                    long left = entry.Length;
                    int n;
                    while (left > 0 && (n = await data.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), ct).ConfigureAwait(false)) > 0)
                    {
                        await file.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                        sha.AppendData(buffer, 0, n);
                        left -= n;
                    }
                }
                if (archived is not null)
                    archived[relative] = new RunArtifact { Path = relative, SizeBytes = entry.Length, Sha256 = Convert.ToHexStringLower(sha.GetHashAndReset()) };
            }
        }
        return entries == 0 ? "the engine's archive is empty" : null;

        // The workspace path (relative to its root) of the entry `<top>/<rest>`; null when it would leave the staging tree.
        string? Landing(string rest, string topName)
        {
            var relative = sourceIsDirectory ? Join(destination, rest) : intoDirectory ? Join(destination, topName) : destination;
            var full = Path.GetFullPath(Path.Combine(root, relative));
            return full == root || full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? relative : null;
        }
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : a + "/" + b;

    // A name from the tar: relative, plain segments, no control characters (which would corrupt messages and listings).
    private static string? UnsafeName(string name)
    {
        if (name.Length == 0) return "has no name";
        if (name.StartsWith('/')) return "is an absolute path";
        if (name.Any(char.IsControl)) return "contains control characters";
        if (name.Contains('\\')) return "contains `\\`";
        if (name.Split('/').Any(s => s is "" or "." or "..")) return "is not a plain relative path";
        return null;
    }

    /// <summary>Why an archived name is refused, as the step's reason says it.</summary>
    public const string HostileNameRule = "an archived file's name must not hold control, format, bidi or line separator characters";

    private static string Shown(string? value) => HostileCharacters.Escaped(value);

    /// <summary>The step's remaining allowance, shared by all its copies.</summary>
    private sealed class Budget(long maxBytes, int maxFiles)
    {
        private long _bytes;
        private int _files;
        public long MaxBytes => maxBytes;
        public int MaxFiles => maxFiles;
        public bool TakeEntry() => ++_files <= maxFiles;
        public bool TakeBytes(long n) => n >= 0 && (_bytes += n) <= maxBytes;
    }
}

/// <summary>
/// Entries copied out of one container into one staging directory: the step's own stage's (<paramref name="Stage"/>
/// null), or a later stage's that names this container in its <c>copy</c>.
/// </summary>
public sealed record CopyGroup(string? Stage, IReadOnlyList<RunCopy> Copies, string Staging);

/// <summary>A copy's result: the reason it failed, or the files it kept as run artifacts.</summary>
public sealed record CopyOutcome(string? Failure, IReadOnlyList<RunArtifact> Archived)
{
    public static CopyOutcome Failed(string reason) => new(reason, []);
}
