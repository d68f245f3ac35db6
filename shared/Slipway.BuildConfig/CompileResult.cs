namespace Slipway.BuildConfig;

/// <summary>A compiled variant, with what the builder needs besides the Dockerfile.</summary>
/// <param name="PinnedBlubberVersion">The version the file's <c># syntax=…/blubber/buildkit:vX.Y.Z</c> line pins (<c>v0.22.0</c>), or null.</param>
public sealed record CompileResult(string Dockerfile, BuildPlan Plan, string? PinnedBlubberVersion)
{
    /// <summary>For the build log: keys accepted because of (or despite) the pinned version, and other caveats.</summary>
    public IReadOnlyList<string> Warnings => Plan.Warnings;

    /// <summary>The labels the Dockerfile sets (blubber.variant, blubber.version, and slipway.compiler with a pin).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Labels => Plan.Labels;

    /// <summary>Build args to pass with the build (declared <c>arguments</c> and LIVES_*/RUNS_* given in the options).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> BuildArgs => Plan.BuildArgs;

    /// <summary>
    /// Whether any step needs a network (package installs). A build without such a step needs none at all; with
    /// <see cref="CompileOptions.NetworkNoneFlag"/> every other RUN carries <c>--network=none</c>.
    /// </summary>
    public bool NeedsNetwork => Plan.NetworkSteps.Any();

    /// <summary>The steps that get the network, as "stage: first command", for the build log.</summary>
    public IReadOnlyList<string> NetworkSteps =>
        Plan.NetworkSteps.Select(s => $"{s.Stage}: {(s.Step.Exec is { } e ? string.Join(' ', e) : (s.Step.Commands.Count > 0 ? s.Step.Commands[0] : ""))}").ToList();
}
