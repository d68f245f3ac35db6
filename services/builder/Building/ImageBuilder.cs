using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Slipway.Builder.Building.BuildKit;
using Slipway.Builder.Building.Egress;
using Slipway.BuildConfig;
using Slipway.Contracts;

namespace Slipway.Builder.Building;

/// <summary>
/// Builds one Blubber variant into an image with the engine's BuildKit (<c>POST /build?version=2</c>, the context as
/// the request body, no session): compiles the Dockerfile with Slipway.BuildConfig, sends the context honouring
/// <c>.dockerignore</c>, labels the image, bounds time and concurrency, and keeps the output rendered from BuildKit's
/// status stream (<see cref="BuildKitProgress"/>). The engine's layer cache and cache mounts are reused across runs
/// (nothing here disables them). Build steps get the network <see cref="BuildEgress"/> chooses: none, or only the
/// package mirrors through its proxy (without one, <c>Builder:Network</c>).
/// </summary>
public sealed partial class ImageBuilder(IDockerClient docker, BuilderOptions options, ILogger<ImageBuilder> logger, BuildEgress? egress = null, BuildStepCgroup? stepCgroup = null)
{
    private readonly SemaphoreSlim _slots = new(options.MaxConcurrentBuilds, options.MaxConcurrentBuilds);

    // Docker.DotNet cannot ask for BuildKit; the build call goes to the same engine endpoint directly.
    private readonly Lazy<EngineBuildApi> _engine = new(() => new EngineBuildApi(docker.Configuration.EndpointBaseUri));

    // The default image policy, always enforced: every image pulled comes from an allowed registry (none listed: scratch only).
    private readonly RegistryPolicy _registries = new(options.AllowedBaseRegistries);

    // Reads a base image's config when compiling needs it (run-variant's inherited entry point, $NAME in mounts and caches).
    private readonly BaseImageReader _baseImages = new(docker, options.RegistryAuth, TimeSpan.FromSeconds(options.BuildTimeoutSeconds), logger);

    /// <summary>
    /// Builds the request. Refusals and failures come back as a failed result with a one-line reason; only the
    /// caller's own cancellation throws (<see cref="OperationCanceledException"/>, after stopping the build), so a
    /// shutdown is never reported as a failed build.
    /// </summary>
    public async Task<ImageBuildResult> BuildAsync(ImageBuildRequest request, Func<string, Task>? onOutputLine, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        if (ValidateRequest(request) is { } invalid)
            return Failed(BuildFailureKind.InvalidRequest, invalid, started);

        // Compile first: a refused config never takes a build slot and never reaches the engine.
        CompileResult compiled;
        IReadOnlyList<string> contextFiles;
        IReadOnlyCollection<string> baseImagesRead;
        try
        {
            var yaml = ReadBlubberFile(request);
            contextFiles = Blubber.ListContext(request.ContextDir, ignoreOverride: IgnoreOverride(request));
            (compiled, baseImagesRead) = await CompileAsync(yaml, request, contextFiles, ct);
        }
        catch (BlubberException e)
        {
            logger.LogInformation("Blubber refused variant {Variant} of {Tag}: {Reason}", request.Variant, request.Tag, e.Message);
            return Failed(BuildFailureKind.Config, e.Message, started);
        }
        catch (BaseImageException e)
        {
            logger.LogInformation("Base image config for variant {Variant} of {Tag} unavailable: {Reason}", request.Variant, request.Tag, e.Message);
            return Failed(BuildFailureKind.Config, e.Message, started);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is DockerApiException or HttpRequestException or TimeoutException or System.Net.Sockets.SocketException)
        {
            logger.LogError(e, "Reading a base image's config for {Tag} failed", request.Tag);
            return Failed(BuildFailureKind.Engine, $"cannot read the base image's config: Docker engine unreachable or answering unexpectedly: {OneLine(e.Message)}", started);
        }
        catch (BuildContextException e)
        {
            return Failed(BuildFailureKind.Context, e.Message, started);
        }
        catch (UnsafePathException e)
        {
            logger.LogWarning("Build context of {Tag} refused: {Reason}", request.Tag, e.Message);
            return Failed(BuildFailureKind.Context, e.Message, started);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Failed(BuildFailureKind.Context, $"cannot read the build context: {e.Message}", started);
        }

        await _slots.WaitAsync(ct);
        try
        {
            // Only a local engine's cgroup tree is this host's; a remote engine is bounded where it runs.
            if (docker.Configuration.EndpointBaseUri.Scheme == "unix") stepCgroup?.Apply();
            BuildNetwork network;
            try
            {
                network = request.Network is { } asked ? new BuildNetwork(asked, new Dictionary<string, string>())
                    : egress is null ? new BuildNetwork(options.Network, new Dictionary<string, string>())
                    : await egress.ForBuildAsync(compiled.NeedsNetwork, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is InvalidOperationException or DockerApiException or HttpRequestException or IOException or TimeoutException or System.Net.Sockets.SocketException)
            {
                // Fail closed: without the allow-list path a build that installs packages does not run at all.
                logger.LogError(e, "Build egress unavailable for {Tag}", request.Tag);
                return Failed(BuildFailureKind.Engine, $"the build network to the package mirrors is unavailable: {OneLine(e.Message)}", started);
            }
            return await BuildWithEngineAsync(request, compiled, contextFiles, baseImagesRead, network, onOutputLine, started, ct);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>
    /// Compiles the variant; when that needs a base image's config (Blubber reads it: run-variant's inherited entry
    /// point, <c>$NAME</c> in mounts and caches), checks the image policy on that image, reads the config from the
    /// engine (pulling the image if needed) and compiles again. Returns the images whose config was read.
    /// </summary>
    private async Task<(CompileResult, IReadOnlyCollection<string>)> CompileAsync(string yaml, ImageBuildRequest request, IReadOnlyList<string> contextFiles,
        CancellationToken ct)
    {
        var baseImages = new Dictionary<string, BaseImageConfig>(StringComparer.Ordinal);
        while (true)
        {
            try
            {
                // Cache mounts are scoped to the project: they persist across its runs and are never shared with another project.
                var compiled = Blubber.Compile(yaml, request.Variant, request.Policy, new CompileOptions
                {
                    ContextFiles = contextFiles,
                    CacheScope = request.Project is { Length: > 0 } project ? CacheScope.For(project) : null,
                    RunVariant = request.RunVariant,
                    EntrypointArgs = request.EntrypointArgs,
                    RunVariantEnv = request.RunVariantEnv,
                    BaseImages = baseImages,
                }, request.Limits, _registries);
                return (compiled, baseImages.Keys);
            }
            // Each image is read once: a second request for the same one cannot happen, and the stages bound the loop.
            catch (BlubberException e) when (e.NeedsBaseImage is { } image && !baseImages.ContainsKey(image) && baseImages.Count < MaxBaseImagesRead)
            {
                // Never pull an image the policy refuses: the check the compiled plan gets, before the engine sees the image.
                _registries.EnforceImage(image, e.KeyPath is { Length: > 0 } at ? $"{at}.base" : "base");
                baseImages[image] = await _baseImages.ReadAsync(image, ct);
            }
        }
    }

    private const int MaxBaseImagesRead = 100;

    private async Task<ImageBuildResult> BuildWithEngineAsync(ImageBuildRequest request, CompileResult compiled, IReadOnlyList<string> contextFiles,
        IReadOnlyCollection<string> baseImagesRead, BuildNetwork network, Func<string, Task>? onOutputLine, Stopwatch started, CancellationToken ct)
    {
        var dockerfile = compiled.Dockerfile;
        var limit = request.TimeLimit ?? TimeSpan.FromSeconds(options.BuildTimeoutSeconds);
        var logPath = Path.Combine(Path.GetFullPath(options.LogDir),
            $"{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{SafeFileName(request.Tag)}-{Guid.NewGuid().ToString("N")[..8]}.log");
        await using var log = new BuildOutputLog(logPath, options.MaxLogBytes, onOutputLine);
        var progress = new BuildKitProgress(log);
        var cacheScope = request.Project is { Length: > 0 } project ? $"# Cache mount scope: {CacheScope.For(project)}\n" : "";
        var warnings = string.Concat(compiled.Warnings.Select(w => $"# WARNING: {w}\n"));
        var pin = compiled.PinnedBlubberVersion is { } v ? $"# Blubber version pinned by the file: {v}\n" : "";
        var bases = string.Concat(baseImagesRead.Select(b => $"# Read the config of base image {b} (its entry point and environment, as Blubber does)\n"));
        log.WriteHeader($"# Slipway build of variant {request.Variant} as {request.Tag} with BuildKit\n# Network: {network.Mode}\n{cacheScope}{pin}{bases}{warnings}# Generated Dockerfile:\n{dockerfile}\n# Build output:\n");

        // The variant's declared arguments, then the egress proxy settings (which a config cannot override).
        var buildArgs = compiled.BuildArgs.Concat(network.BuildArgs).GroupBy(a => a.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        var tarPath = Path.Combine(Path.GetTempPath(), $"slipway-context-{Guid.NewGuid():N}.tar");
        using var timeLimit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        try
        {
            var labels = request.Labels;
            if (request.Project is { Length: > 0 } keyProject)
            {
                string key;
                try
                {
                    key = BuildInputKey.Compute(keyProject, request.Variant, compiled, network.Mode, buildArgs, request.ContextDir, contextFiles, options.MaxContextBytes);
                }
                catch (UnsafePathException e)
                {
                    return await FinishAsync(log, logPath, dockerfile, started, BuildFailureKind.Context, e.Message, progress);
                }
                catch (Exception e) when (e is BuildContextException or IOException or UnauthorizedAccessException)
                {
                    return await FinishAsync(log, logPath, dockerfile, started, BuildFailureKind.Context, $"cannot read the build context: {e.Message}", progress);
                }
                if (request.ReuseIdenticalImage && await ReuseAsync(request, keyProject, key, log, logPath, dockerfile, started, ct) is { } reused)
                    return reused;
                // Set last: the request's labels (and a LABEL in the Dockerfile) cannot claim another key or project.
                labels = new Dictionary<string, string>(request.Labels) { [BuildInputKey.Label] = key, [ProjectLabel] = keyProject };
            }

            await using var tar = new FileStream(tarPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose);
            string dockerfileName;
            try
            {
                dockerfileName = BuildContextArchive.Write(request.ContextDir, contextFiles, dockerfile, tar, options.MaxContextBytes, IgnoreOverride(request));
            }
            catch (UnsafePathException e)
            {
                return await FinishAsync(log, logPath, dockerfile, started, BuildFailureKind.Context, e.Message, progress);
            }
            catch (Exception e) when (e is BuildContextException or IOException or UnauthorizedAccessException)
            {
                return await FinishAsync(log, logPath, dockerfile, started, BuildFailureKind.Context, $"cannot send the build context: {e.Message}", progress);
            }
            tar.Position = 0;

            var query = new EngineBuildQuery
            {
                Dockerfile = dockerfileName,
                Tags = [request.Tag],
                Labels = labels,
                NetworkMode = network.Mode,
                BuildArgs = buildArgs,
            };
            logger.LogInformation("Building variant {Variant} as {Tag} with BuildKit (network {Network}, limit {Limit}s)",
                request.Variant, request.Tag, query.NetworkMode, (int)limit.TotalSeconds);

            timeLimit.CancelAfter(limit);
            try
            {
                await _engine.Value.BuildAsync(query, tar, RegistryConfig(), progress.OnMessage, timeLimit.Token);
            }
            catch (Exception e) when (timeLimit.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                // Closing the connection cancels the solve: BuildKit kills the running step and stops the build.
                logger.LogInformation(e, "Build of {Tag} hit its time limit", request.Tag);
                var reason = $"build exceeded its time limit of {(long)limit.TotalSeconds}s";
                log.Note("ERROR: " + reason);
                return await FinishAsync(log, logPath, dockerfile, started, BuildFailureKind.TimedOut, reason, progress);
            }
            catch (DockerApiException e) when (!ct.IsCancellationRequested)
            {
                // The engine refused the request before building, e.g. a bad parameter.
                var reason = EngineMessage(e);
                log.Note("ERROR: " + reason);
                var kind = e.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound ? BuildFailureKind.BuildStep : BuildFailureKind.Engine;
                return await FinishAsync(log, logPath, dockerfile, started, kind, reason, progress);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TimeoutException or System.Net.Sockets.SocketException && !ct.IsCancellationRequested)
            {
                var reason = $"Docker engine unreachable or answering unexpectedly: {OneLine(e.Message)}";
                log.Note("ERROR: " + reason);
                return await FinishAsync(log, logPath, dockerfile, started, BuildFailureKind.Engine, reason, progress);
            }
            ct.ThrowIfCancellationRequested();
            timeLimit.CancelAfter(Timeout.InfiniteTimeSpan);

            if (progress.FailedStep is { } failed)
                return await FinishAsync(log, logPath, dockerfile, started, BuildFailureKind.BuildStep,
                    OneLine($"step {failed.Name} failed: {failed.Error}"), progress);
            if (progress.Error is { } error)
                return await FinishAsync(log, logPath, dockerfile, started, BuildFailureKind.BuildStep, OneLine(error), progress);

            await log.CompleteAsync();
            // The aux message carries the id; inspecting the tag confirms the image exists and gives its size.
            var image = await docker.Images.InspectImageAsync(progress.ImageId ?? request.Tag, CancellationToken.None);
            logger.LogInformation("Built {Tag} as {ImageId} in {Ms} ms", request.Tag, image.ID, started.ElapsedMilliseconds);
            return Built(request, image, log, logPath, dockerfile, started) with { Steps = progress.Steps };
        }
        catch (Exception e) when (ct.IsCancellationRequested)
        {
            log.Note("ERROR: build cancelled (the builder is stopping)");
            await log.CompleteAsync();
            if (e is OperationCanceledException) throw;
            throw new OperationCanceledException("build cancelled", e, ct);
        }
    }

    /// <summary>
    /// Tags the newest local image of <paramref name="project"/> labelled with <paramref name="key"/> as the request's tag
    /// and returns it as this build's result; null when there is none (or it vanished meanwhile), so the caller builds.
    /// </summary>
    private async Task<ImageBuildResult?> ReuseAsync(ImageBuildRequest request, string project, string key, BuildOutputLog log, string logPath,
        string dockerfile, Stopwatch started, CancellationToken ct)
    {
        IList<ImagesListResponse> found;
        try
        {
            found = await docker.Images.ListImagesAsync(new ImagesListParameters
            {
                Filters = new Dictionary<string, IDictionary<string, bool>>
                {
                    ["label"] = new Dictionary<string, bool> { [$"{BuildInputKey.Label}={key}"] = true, [$"{ProjectLabel}={project}"] = true },
                },
            }, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is DockerApiException or HttpRequestException or IOException or TimeoutException)
        {
            logger.LogWarning(e, "Looking up a reusable image for {Tag} failed; building", request.Tag);
            return null;
        }
        // Both labels checked again here: the image must say exactly this key and this project. Only a tagged image: an
        // untagged one (a step built again under its tag) is what LocalImageCleaner removes by id, which would take the
        // tag given here with it.
        var candidate = found
            .Where(i => i.Labels is { } l && l.TryGetValue(BuildInputKey.Label, out var k) && k == key
                && l.TryGetValue(ProjectLabel, out var p) && p == project
                && i.RepoTags is { } tags && tags.Any(t => t != "<none>:<none>"))
            .OrderByDescending(i => i.Created).FirstOrDefault();
        if (candidate is null) return null;

        var colon = request.Tag.LastIndexOf(':');
        try
        {
            await docker.Images.TagImageAsync(candidate.ID, new ImageTagParameters { RepositoryName = request.Tag[..colon], Tag = request.Tag[(colon + 1)..], Force = true }, ct);
            var image = await docker.Images.InspectImageAsync(request.Tag, ct);
            if (image.ID != candidate.ID) return null;
            var builtBy = candidate.Labels.TryGetValue("slipway.run", out var run) && run.Length > 0 ? run : "unknown";
            log.Note($"reused image {image.ID} built by run {builtBy}: the same inputs ({key}), so nothing was built");
            await log.CompleteAsync();
            logger.LogInformation("Reused {ImageId} built by run {Run} as {Tag} (inputs {Key})", image.ID, builtBy, request.Tag, key);
            return Built(request, image, log, logPath, dockerfile, started) with { ReusedFromRun = builtBy };
        }
        catch (DockerImageNotFoundException)
        {
            return null; // removed between the list and the tag: build
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is DockerApiException or HttpRequestException or IOException or TimeoutException)
        {
            logger.LogWarning(e, "Reusing {ImageId} for {Tag} failed; building", candidate.ID, request.Tag);
            return null;
        }
    }

    private const string ProjectLabel = "slipway.project";

    /// <summary>The result of a build that left <paramref name="image"/> under the request's tag (built or reused).</summary>
    private static ImageBuildResult Built(ImageBuildRequest request, ImageInspectResponse image, BuildOutputLog log, string logPath,
        string dockerfile, Stopwatch started) => new()
    {
        Succeeded = true,
        ImageId = image.ID,
        ImageRef = request.Tag,
        SizeBytes = image.Size,
        LogPath = logPath,
        OutputTail = Output.Tail(log.TailText()),
        Dockerfile = dockerfile,
        Duration = started.Elapsed,
    };

    private static async Task<ImageBuildResult> FinishAsync(BuildOutputLog log, string logPath, string dockerfile, Stopwatch started,
        BuildFailureKind kind, string reason, BuildKitProgress progress)
    {
        await log.CompleteAsync();
        return new ImageBuildResult
        {
            Succeeded = false,
            Failure = kind,
            Reason = reason,
            LogPath = logPath,
            // A failed step: its own output, not the interleaved output of steps running beside it.
            OutputTail = Output.Tail(kind == BuildFailureKind.BuildStep && progress.FailedStepOutput() is { } step ? step : log.TailText()),
            Dockerfile = dockerfile,
            Duration = started.Elapsed,
            Steps = progress.Steps,
        };
    }

    private static ImageBuildResult Failed(BuildFailureKind kind, string reason, Stopwatch started) =>
        new() { Succeeded = false, Failure = kind, Reason = reason, Duration = started.Elapsed };

    private static string? ValidateRequest(ImageBuildRequest r)
    {
        if (!Directory.Exists(r.ContextDir)) return $"build context {r.ContextDir} does not exist";
        if (r.BlubberRoot is { } root && !Directory.Exists(root)) return $"Blubber root {root} does not exist";
        if (r.Excludes is { } ex && (ex.Count > 1000 || ex.Any(l => l.Length > 4096 || l.Any(char.IsControl))))
            return "excludes: at most 1000 patterns, each one line of at most 4096 characters";
        if (!ImageTag().IsMatch(r.Tag) || r.Tag.Length > 255) return $"image tag \"{Printable(r.Tag)}\" is not a valid name:tag";
        if (r.TimeLimit is { } t && (t <= TimeSpan.Zero || t > TimeSpan.FromDays(1))) return "time limit must be positive and at most a day";
        if (r.Network is not null && !BuilderOptions.IsValidNetwork(r.Network)) return $"network \"{Printable(r.Network)}\" is not allowed (default or none)";
        if (r.Project is { } p && (p.Length is 0 or > 255 || p.Any(char.IsControl))) return $"project \"{Printable(p)}\" is not a valid project name";
        if (r.Labels.Count > 100) return "at most 100 labels";
        if (r.EntrypointArgs is { } args && (args.Count > 100 || args.Any(a => a is null || a.Length > 4096)))
            return "entrypoint-args: at most 100 arguments of at most 4096 characters";
        if (r.RunVariantEnv is { } env && (env.Count > 100 || env.Any(e => e.Key.Length > 128 || e.Value is null || e.Value.Length > 4096)))
            return "run-variant-env: at most 100 variables, names of at most 128 and values of at most 4096 characters";
        foreach (var (k, v) in r.Labels)
            if (k.Length is 0 or > 128 || v.Length > 4096 || k.Any(char.IsControl) || v.Any(char.IsControl) || k.StartsWith("blubber.", StringComparison.Ordinal))
                return $"label \"{Printable(k)}\" is not allowed (1-128 characters, no control characters, value at most 4096, not blubber.*)";
        if (Path.IsPathRooted(r.BlubberFile) || r.BlubberFile.Replace('\\', '/').Split('/').Contains(".."))
            return $"Blubber file \"{Printable(r.BlubberFile)}\" must be a path inside the repository";
        return null;
    }

    private static string? IgnoreOverride(ImageBuildRequest r) => r.Excludes is { } lines ? string.Join('\n', lines) : null;

    private static string ReadBlubberFile(ImageBuildRequest r)
    {
        if (r.BlubberText is { } text) return text;
        // Resolved inside the context (or the revision) one component at a time: a link that leaves it (to a host file) is refused by name.
        var max = (r.Limits ?? Limits.Default).MaxFileBytes;
        var (root, what) = r.BlubberRoot is { } br ? (br, "the repository") : (r.ContextDir, "the build context");
        var entry = ContainedTree.Inspect(ContainedTree.Resolve(root, r.BlubberFile, what));
        if (entry.Kind == TreeEntryKind.File && entry.Size > max)
            throw new BlubberException(BlubberErrorKind.Parse, $"{r.BlubberFile}: file is larger than {max} bytes");
        return ContainedTree.ReadText(root, r.BlubberFile, max, what)
            ?? throw new BlubberException(BlubberErrorKind.Parse, $"{r.BlubberFile}: no such file in the revision");
    }

    private string? RegistryConfig() => EngineBuildApi.RegistryConfig(options.RegistryAuth.Select(r => (RegistryHost(r.Url!), r.Username, r.Password)));

    /// <summary>The key the engine looks credentials up by: host[:port] of the image reference.</summary>
    private static string RegistryHost(string url)
    {
        var i = url.IndexOf("://", StringComparison.Ordinal);
        return (i >= 0 ? url[(i + 3)..] : url).TrimEnd('/');
    }

    private static string EngineMessage(DockerApiException e)
    {
        try
        {
            using var json = JsonDocument.Parse(e.ResponseBody);
            if (json.RootElement.TryGetProperty("message", out var m) && m.GetString() is { Length: > 0 } message) return OneLine(message);
        }
        catch (JsonException) { }
        return OneLine($"Docker engine error {(int)e.StatusCode}: {e.ResponseBody}");
    }

    private static string OneLine(string s)
    {
        var line = string.Join(' ', s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length > 4000 ? line[..4000] + "…" : line;
    }

    private static string SafeFileName(string tag) => FileUnsafe().Replace(tag, "_");

    private static string Printable(string s) => new(s.Take(200).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    // Docker reference: lowercase path components (optionally host[:port]/ first), then :tag.
    [GeneratedRegex(@"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex ImageTag();

    [GeneratedRegex("[^A-Za-z0-9._-]")]
    private static partial Regex FileUnsafe();
}
