using Slipway.BuildConfig;

namespace Slipway.Builder.Building;

/// <summary>One image to build: a variant of the Blubber config in a checked-out revision.</summary>
public sealed record ImageBuildRequest
{
    /// <summary>The checked-out revision: the build context.</summary>
    public required string ContextDir { get; init; }

    /// <summary>The Blubber config, relative to <see cref="BlubberRoot"/> (or <see cref="ContextDir"/>).</summary>
    public string BlubberFile { get; init; } = ".pipeline/blubber.yaml";

    /// <summary>
    /// The directory <see cref="BlubberFile"/> is relative to and must stay in: the checked-out revision, when the
    /// context is one of its sub-directories (PipelineLib's <c>directory</c> and <c>build.context</c>); null for <see cref="ContextDir"/>.
    /// </summary>
    public string? BlubberRoot { get; init; }

    /// <summary>
    /// The Blubber config's text, when the caller already read it (e.g. without the variants Blubber refuses, which are
    /// refused alone); null reads <see cref="BlubberFile"/>, which then only names it in messages.
    /// </summary>
    public string? BlubberText { get; init; }

    /// <summary>.dockerignore lines that replace the context's own for this build (PipelineLib's <c>build.excludes</c>); null keeps it.</summary>
    public IReadOnlyList<string>? Excludes { get; init; }

    public required string Variant { get; init; }

    /// <summary>Central policy enforced before anything is built; null for none.</summary>
    public Policy? Policy { get; init; }

    /// <summary>Labels tying the image to the run (<c>slipway.run</c>, <c>slipway.project</c>, <c>slipway.revision</c>, ...).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>Local image name:tag given to the built image.</summary>
    public required string Tag { get; init; }

    /// <summary>Time limit of the build; null for <see cref="BuilderOptions.BuildTimeoutSeconds"/>.</summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>Network of build steps (<c>default</c>: unconfined, or <c>none</c>); null to let <see cref="Egress.BuildEgress"/> choose.</summary>
    public string? Network { get; init; }

    /// <summary>
    /// The project the build is for (the Gerrit project): its cache mounts live in <see cref="BuildKit.CacheScope.For"/>
    /// of it, never shared with another project's. Null: the build may use no cache mounts.
    /// </summary>
    public string? Project { get; init; }

    /// <summary>
    /// Reuse a local image of the same <see cref="Project"/> whose <see cref="BuildInputKey"/> equals this build's (the
    /// same inputs, byte for byte) instead of building: the image is tagged <see cref="Tag"/> and no build step runs.
    /// Off for a recheck, whose point is to build again. Every build with a <see cref="Project"/> carries its key either way.
    /// </summary>
    public bool ReuseIdenticalImage { get; init; }

    /// <summary>
    /// Blubber's <c>run-variant</c> build option: run the variant's entry point (its own, or the one it inherits from
    /// its base image, whose config the builder then reads) as the last build step.
    /// </summary>
    public bool RunVariant { get; init; }

    /// <summary>Blubber's <c>entrypoint-args</c>: extra arguments of the run-variant step (at most 100, each at most 4096 characters).</summary>
    public IReadOnlyList<string>? EntrypointArgs { get; init; }

    /// <summary>Blubber's <c>run-variant-env</c>: environment of the run-variant step only (at most 100, values at most 4096 characters).</summary>
    public IReadOnlyDictionary<string, string>? RunVariantEnv { get; init; }

    /// <summary>Blubber input limits; null for <see cref="Limits.Default"/>.</summary>
    public Limits? Limits { get; init; }
}
