using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>The publisher started pushing the production image to the registry (merge runs only).</summary>
[EventType("slipway.publish.started.v1")]
[Description("The publisher started pushing an image to the registry (merged commits only).")]
public sealed record PublishStarted : StepEvent
{
    /// <summary>The local image being pushed.</summary>
    [RegularExpression(ContractPatterns.ImageId)] public required string ImageId { get; init; }

    /// <summary>Target repository, without tag.</summary>
    [MaxLength(512)] public required string Uri { get; init; }

    /// <summary>Tags to push.</summary>
    public required IReadOnlyList<string> Tags { get; init; }
}

/// <summary>The image is in the registry. The deployer's cue.</summary>
[EventType("slipway.publish.succeeded.v1")]
[Description("The image is in the registry: its uri, tags and digest.")]
public sealed record PublishSucceeded : StepFinishedEvent
{
    /// <summary>The local image that was pushed.</summary>
    [RegularExpression(ContractPatterns.ImageId)] public required string ImageId { get; init; }

    /// <summary>The published image.</summary>
    public required ContainerImage Image { get; init; }

    /// <summary>The image's name under the registry (PipelineLib's <c>${&lt;stage&gt;.imageName}</c>).</summary>
    [Description("The image's name under the registry (PipelineLib's ${<stage>.imageName}); absent from older publishers.")]
    [MaxLength(256)] public string? Name { get; init; }

    /// <summary>The primary tag (PipelineLib's <c>${&lt;stage&gt;.imageTag}</c>).</summary>
    [Description("The primary tag (PipelineLib's ${<stage>.imageTag}); absent from older publishers.")]
    [MaxLength(128)] public string? Tag { get; init; }
}

/// <summary>The push failed (registry unreachable or refused, policy, time limit…).</summary>
[EventType("slipway.publish.failed.v1")]
[Description("Pushing the image failed.")]
public sealed record PublishFailed : StepFinishedEvent, IStepFailedEvent
{
    /// <summary>The local image.</summary>
    [RegularExpression(ContractPatterns.ImageId)] public string? ImageId { get; init; }

    /// <summary>Target repository, without tag.</summary>
    [MaxLength(512)] public string? Uri { get; init; }

    /// <inheritdoc/>
    [MaxLength(4096)] public required string Reason { get; init; }
}
