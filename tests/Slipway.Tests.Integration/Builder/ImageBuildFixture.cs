using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Builder.Building;
using Slipway.Builder.Building.Egress;
using Slipway.BuildConfig;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// Writes a build context to a temp directory and builds it with a real <see cref="ImageBuilder"/>, whose package
/// installs go through this test's own egress proxy on the default bridge (the machine's apt mirror allowed), as in production.
/// </summary>
public sealed class ImageBuildFixture : IAsyncDisposable
{
    private readonly List<string> _dirs = [];

    public ImageBuildFixture(DockerTestScope scope, int maxConcurrentBuilds = 2, BuildEgressOptions? egress = null)
    {
        Scope = scope;
        LogDir = NewDir();
        Options = new BuilderOptions
        {
            LogDir = LogDir,
            MaxConcurrentBuilds = maxConcurrentBuilds,
            Cpus = 1,
            MemoryBytes = 1024L * 1024 * 1024,
            RegistryAuth = [BuilderTestEnvironment.Registry],
            AllowedBaseRegistries = [BuilderTestEnvironment.Registry.Url!],
        };
        EgressOptions = egress ?? new BuildEgressOptions();
        Egress = new BuildEgress(scope.Docker, EgressOptions, Options, NullLogger<BuildEgress>.Instance);
        Builder = new ImageBuilder(scope.Docker, Options, NullLogger<ImageBuilder>.Instance, Egress);
    }

    public DockerTestScope Scope { get; }
    public BuilderOptions Options { get; }
    public ImageBuilder Builder { get; }
    public BuildEgressOptions EgressOptions { get; }
    public BuildEgress Egress { get; }
    public string LogDir { get; }
    public List<string> Lines { get; } = [];

    /// <summary>The output lines of build steps without BuildKit's <c>#N </c> step prefix.</summary>
    public List<string> StepOutput()
    {
        lock (Lines)
            return Lines.Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^#\d+ (.*)$")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
    }

    public static string Base => BuilderTestEnvironment.BaseImage;

    /// <summary>A new context directory holding <paramref name="files"/> (relative path → content; a null content makes a directory).</summary>
    public string Context(IReadOnlyDictionary<string, string?> files)
    {
        var dir = NewDir();
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(dir, path);
            if (content is null) { Directory.CreateDirectory(full); continue; }
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
            if (path.EndsWith(".sh", StringComparison.Ordinal))
                File.SetUnixFileMode(full, (UnixFileMode)0b111_101_101);
        }
        return dir;
    }

    public Task<ImageBuildResult> BuildAsync(string contextDir, string variant, string? tag = null, TimeSpan? timeLimit = null,
        Policy? policy = null, IReadOnlyDictionary<string, string>? labels = null, string? network = null, CancellationToken ct = default)
    {
        var all = new Dictionary<string, string>(Scope.Labels);
        foreach (var (k, v) in labels ?? new Dictionary<string, string>()) all[k] = v;
        return Builder.BuildAsync(new ImageBuildRequest
        {
            ContextDir = contextDir,
            Variant = variant,
            Tag = tag ?? Scope.Tag(variant),
            Labels = all,
            TimeLimit = timeLimit ?? TimeSpan.FromMinutes(5),
            Policy = policy,
            Network = network,
        }, line =>
        {
            lock (Lines) Lines.Add(line);
            Scope.TrackOutput(line);
            return Task.CompletedTask;
        }, ct);
    }

    private string NewDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "slipway-builder-test-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        _dirs.Add(dir);
        return dir;
    }

    public async ValueTask DisposeAsync()
    {
        await Egress.DisposeAsync();
        foreach (var d in _dirs)
            try { Directory.Delete(d, recursive: true); } catch (IOException) { }
    }
}
