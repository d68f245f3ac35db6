namespace Slipway.Builder.Building;

/// <summary>Why a build failed, so a caller can tell a bad config (do not retry) from a broken engine (retry).</summary>
public enum BuildFailureKind
{
    None,
    /// <summary>The request itself is invalid (tag, labels, network, time limit, Blubber file path).</summary>
    InvalidRequest,
    /// <summary>Blubber refused the config (parse, validation, compile) or the policy refused it; nothing was sent to Docker.</summary>
    Config,
    /// <summary>The build context could not be read or is too large.</summary>
    Context,
    /// <summary>A build step failed (a command returned non-zero, a base image could not be pulled, ...).</summary>
    BuildStep,
    /// <summary>The build ran past its time limit and was stopped.</summary>
    TimedOut,
    /// <summary>The engine could not be reached or answered unexpectedly.</summary>
    Engine,
}

/// <summary>What a build produced. On success the image is in the engine's store under <see cref="ImageRef"/>.</summary>
public sealed record ImageBuildResult
{
    public required bool Succeeded { get; init; }

    public BuildFailureKind Failure { get; init; }

    /// <summary>The image id, <c>sha256:&lt;64 hex&gt;</c>.</summary>
    public string? ImageId { get; init; }

    /// <summary>The tag given to the image (the request's tag).</summary>
    public string? ImageRef { get; init; }

    public long? SizeBytes { get; init; }

    /// <summary>Full build output (generated Dockerfile first), under <see cref="BuilderOptions.LogDir"/>; null when nothing was built.</summary>
    public string? LogPath { get; init; }

    /// <summary>Last lines of the build output, bounded as events require (<see cref="Slipway.Contracts.Output.Tail"/>).</summary>
    public string? OutputTail { get; init; }

    /// <summary>One line for humans on failure: Blubber's message, the policy violation, the time limit, or the failed step's error.</summary>
    public string? Reason { get; init; }

    /// <summary>The Dockerfile compiled from the Blubber config, when it compiled.</summary>
    public string? Dockerfile { get; init; }

    public TimeSpan Duration { get; init; }

    /// <summary>The steps BuildKit reported (name, cached, timing, error), in order; empty when nothing reached the engine.</summary>
    public IReadOnlyList<BuildKit.BuildStep> Steps { get; init; } = [];

    /// <summary>Set when an identical earlier build was reused instead of building: the run that built it (its <c>slipway.run</c> label, or "unknown").</summary>
    public string? ReusedFromRun { get; init; }

    public bool TimedOut => Failure == BuildFailureKind.TimedOut;
}
