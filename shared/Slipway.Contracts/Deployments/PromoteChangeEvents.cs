using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>
/// A promote step opened (or, on a replayed attempt, found already open) its change in the charts project's Gerrit
/// (PipelineLib's promote: "CHART: pipeline bot promote", topic <c>pipeline-promote</c>) with the new image version for
/// reviewers. Emitted once per run and step, before the step's <see cref="PromoteSucceeded"/>; only when the operator
/// configured <c>Deployer:Promote</c>.
/// </summary>
[EventType("slipway.promote.change-opened.v1")]
[Description("A promote step opened its change in the charts project's Gerrit with the new image version for reviewers (PipelineLib promote), or found the one an earlier attempt opened.")]
public sealed record PromoteChangeOpened : IPipelineEvent
{
    /// <summary>The promote step's stage.</summary>
    [MaxLength(128)] public required string Stage { get; init; }

    /// <summary>The promote step.</summary>
    [MaxLength(128)] public required string Step { get; init; }

    /// <summary>The chart (service) whose version the change sets.</summary>
    [MaxLength(256)] public required string Chart { get; init; }

    /// <summary>The version set (PipelineLib: the published image's tag).</summary>
    [Description("The version set: the published image's primary tag (PipelineLib's ${.imageTag}).")]
    [MaxLength(128)] public required string Version { get; init; }

    /// <summary>The charts project in Gerrit.</summary>
    [MaxLength(255)] public required string Project { get; init; }

    /// <summary>The branch the change is for.</summary>
    [MaxLength(255)] public required string Branch { get; init; }

    /// <summary>The change number.</summary>
    [Range(1, int.MaxValue)] public required int Change { get; init; }

    /// <summary>The change's Change-Id, derived from project, branch, run, step and chart (a replay finds the same change).</summary>
    [Description("The change's Change-Id, derived from project, branch, run, step and chart, so a replayed attempt finds the same change.")]
    [RegularExpression("^I[0-9a-f]{40}$")] public required string ChangeId { get; init; }

    /// <summary>The change's web URL.</summary>
    [MaxLength(2048)] public required string Url { get; init; }

    /// <summary>The values files whose <c>main_app.version</c> the change sets.</summary>
    [Description("The values files whose main_app.version the change sets.")]
    [MaxLength(64)] public required IReadOnlyList<string> Files { get; init; }

    /// <summary>True when an earlier attempt of the step had already opened the change (nothing was pushed again).</summary>
    [Description("True when an earlier attempt of the step had already opened the change and nothing was pushed again.")]
    public bool AlreadyOpen { get; init; }
}
