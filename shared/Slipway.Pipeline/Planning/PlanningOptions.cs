using Slipway.Contracts;

namespace Slipway.Pipeline.Planning;

/// <summary>How the planner fills in what the repository does not say.</summary>
public sealed record PlanningOptions
{
    public static readonly PlanningOptions Default = new();

    /// <summary>Pipelines to run (PipelineLib's <c>PLIB_PIPELINE</c>); null runs every pipeline the trigger allows.</summary>
    public IReadOnlyList<string>? Pipelines { get; init; }

    /// <summary>Port smoke-tested when the production variant sets no integer <c>PORT</c> in <c>runs.environment</c>.</summary>
    public int DefaultPort { get; init; } = 8080;

    /// <summary>Canonical flow: the automatic environment.</summary>
    public string StagingEnvironment { get; init; } = "staging";

    /// <summary>Canonical flow: the environment that needs a human's approval.</summary>
    public string ProductionEnvironment { get; init; } = "production";

    /// <summary>Canonical flow: whether production waits for approval (used when <see cref="ApprovalEnvironments"/> is null).</summary>
    public bool ProductionRequiresApproval { get; init; } = true;

    /// <summary>
    /// Environments whose <c>deploy</c> and <c>promote</c> steps wait for an approver, whatever the plan came from
    /// (canonical flow or config.yaml). Null: only <see cref="ProductionEnvironment"/>, when <see cref="ProductionRequiresApproval"/>.
    /// </summary>
    public IReadOnlySet<string>? ApprovalEnvironments { get; init; }

    /// <summary>Whether rolling out to, or promoting into, <paramref name="environment"/> needs an approval.</summary>
    public bool RequiresApproval(string environment) =>
        ApprovalEnvironments?.Contains(environment) ?? (ProductionRequiresApproval && environment == ProductionEnvironment);

    /// <summary>
    /// Branches (short names) whose merges and updates may publish, deploy and promote; runs of other branches build and
    /// test only (the steps are left out of the plan, with a note). Patch sets never publish, whatever their branch.
    /// </summary>
    public IReadOnlyList<string> ReleaseBranches { get; init; } = ["master", "main"];

    /// <summary>
    /// Whether a run a new tag started publishes, deploys and promotes as a release branch's merge does (PipelineLib's
    /// publish pipeline, whose image takes the tag's name). Off: tag runs build and test only.
    /// </summary>
    public bool ReleaseTags { get; init; } = true;

    /// <summary>
    /// Operator-configured owners: service (chart) name → the Gerrit project allowed to deploy or promote it. A service
    /// not listed belongs to the project whose last path segment names it (<see cref="ServiceOwnership"/>).
    /// </summary>
    public IReadOnlyDictionary<string, string>? ServiceOwners { get; init; }

    /// <summary>
    /// Operator-defined credentials for <c>run.credentials</c>: id → the Gerrit projects allowed to use it
    /// (<c>Pipeline:Credentials:&lt;id&gt;:Projects</c>). The values are the tester's; the planner never sees them.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Credentials { get; init; }

    /// <summary>
    /// Where the reporter is reached (<c>Pipeline:ArtifactBaseUrl</c>, an absolute http(s) URL without a final <c>/</c>):
    /// the links <c>${&lt;stage&gt;.artifactURLs}</c> gives start with it. Null: a config using that output is refused.
    /// </summary>
    public string? ArtifactBaseUrl { get; init; }

    /// <summary>Canonical flow: staging's rollout (all at once).</summary>
    public IReadOnlyList<RolloutPhase> StagingRollout { get; init; } = [new() { Stage = RolloutStage.Full, Percentage = 100 }];

    /// <summary>Canonical flow: production's rollout, canary then partial then full.</summary>
    public IReadOnlyList<RolloutPhase> ProductionRollout { get; init; } =
    [
        new() { Stage = RolloutStage.Canary, Percentage = 10 },
        new() { Stage = RolloutStage.Partial, Percentage = 50 },
        new() { Stage = RolloutStage.Full, Percentage = 100 },
    ];

    /// <summary>config.yaml <c>deploy</c>: PipelineLib installs into its CI namespace, so the environment is <c>ci</c>.</summary>
    public string DeployEnvironment { get; init; } = "ci";

    /// <summary>Job parameters, bound as <c>setup.params.&lt;NAME&gt;</c>.</summary>
    public IReadOnlyDictionary<string, string>? Params { get; init; }

    public PipelineConfigLimits Limits { get; init; } = PipelineConfigLimits.Default;

    /// <summary>Limits for reading Blubber files.</summary>
    public Slipway.BuildConfig.Limits BlubberLimits { get; init; } = Slipway.BuildConfig.Limits.Default;
}
