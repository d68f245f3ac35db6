using System.Security.Cryptography;
using System.Text;
using Slipway.BuildConfig;

namespace Slipway.Builder.Building;

/// <summary>
/// A SHA-256 over everything that determines a built image, so an image labelled with it (<see cref="Label"/>) can
/// stand in for a new build of the same inputs: the project, the variant, the compiled Dockerfile, the build arguments
/// and network, the Blubber pin, and every context file's path, kind, mode and content (or link target). The content
/// is hashed, so no revision or run can claim another's key without sending the very same bytes. Not covered: a base
/// image tag that moves in its registry between the two builds (the reused image keeps the base it was built on).
/// </summary>
public static class BuildInputKey
{
    /// <summary>The image label holding the key.</summary>
    public const string Label = "slipway.build-key";

    // Bumped when what goes into the key changes, so keys of older builds never match.
    private const string Version = "slipway-build-key-v1";

    /// <summary>The key, or an exception as <see cref="BuildContextArchive.Write"/> would throw for the same context.</summary>
    public static string Compute(string project, string variant, CompileResult compiled, string networkMode,
        IReadOnlyDictionary<string, string> buildArgs, string contextDir, IReadOnlyList<string> contextFiles, long maxBytes)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Field(string name, string value)
        {
            // Length-prefixed, so no two different inputs write the same bytes.
            var bytes = Encoding.UTF8.GetBytes(value);
            hash.AppendData(Encoding.UTF8.GetBytes($"{name}:{bytes.Length}:"));
            hash.AppendData(bytes);
        }
        Field("version", Version);
        Field("project", project);
        Field("variant", variant);
        Field("dockerfile", compiled.Dockerfile);
        Field("blubber-pin", compiled.PinnedBlubberVersion ?? "");
        Field("network", networkMode);
        foreach (var (k, v) in buildArgs.OrderBy(a => a.Key, StringComparer.Ordinal))
            Field("arg", $"{k}={v}");

        contextDir = Path.GetFullPath(contextDir);
        long total = 0;
        var buffer = new byte[81920];
        foreach (var rel in contextFiles.Order(StringComparer.Ordinal))
        {
            Field("path", rel);
            var full = Path.Combine(contextDir, rel);
            var info = new FileInfo(full);
            if (info.LinkTarget is { } target)
            {
                Field("link", target);
                continue;
            }
            // Listed as a regular file a moment ago; checked again right before it is read.
            ContainedTree.RequireRegularFile(full, rel);
            total += info.Length;
            if (total > maxBytes) throw new BuildContextException($"build context is larger than {maxBytes} bytes");
            Field("mode", OperatingSystem.IsWindows() ? "" : Convert.ToString((int)info.UnixFileMode, 8));
            using var content = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using (var data = File.OpenRead(full))
            {
                int read;
                while ((read = data.Read(buffer, 0, buffer.Length)) > 0) content.AppendData(buffer, 0, read);
            }
            Field("sha256", Convert.ToHexStringLower(content.GetHashAndReset()));
        }
        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
