using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>
/// A run's plan, read by the builder from <c>.pipeline/</c> at the triggering revision: named stages of
/// steps, and the graph that orders the stages. Steps in a stage run in list order; a stage starts
/// once every stage it depends on has succeeded.
/// </summary>
[Description("The run's plan: stages of ordered steps, and the execution graph between stages.")]
public sealed record RunPlan
{
    /// <summary>The pipeline's name from <c>.pipeline/config.yaml</c>; <c>default</c> for the canonical flow (only <c>blubber.yaml</c>).</summary>
    [Description("Pipeline name from .pipeline/config.yaml; 'default' for the canonical flow (only blubber.yaml).")]
    [RegularExpression(ContractPatterns.Name), MaxLength(128)]
    public required string Pipeline { get; init; }

    /// <summary>The file the plan came from, e.g. <c>.pipeline/config.yaml</c> or <c>.pipeline/blubber.yaml</c>.</summary>
    [Description("The file the plan came from, e.g. .pipeline/config.yaml or .pipeline/blubber.yaml.")]
    [MaxLength(1024)]
    public string? ConfigPath { get; init; }

    /// <summary>The stages, in declaration order.</summary>
    [Description("The stages, in declaration order.")]
    [MinLength(1)]
    public required IReadOnlyList<PlanStage> Stages { get; init; }

    /// <summary>The execution graph: every stage once, with the stages it waits for.</summary>
    [Description("The execution graph: every stage once, with the stages it waits for. Roots have an empty dependsOn.")]
    public required IReadOnlyList<PlanGraphNode> Graph { get; init; }

    /// <summary>What the planner left out and why (e.g. a branch that is not a release branch builds and tests only); shown in Gerrit.</summary>
    [Description("What the planner left out of the run and why, for people (e.g. a non-release branch builds and tests only); absent when nothing.")]
    public IReadOnlyList<string>? Notes { get; init; }

    /// <summary>
    /// PipelineLib's <c>fetch.submodules</c> (on unless the pipeline turns it off): the run's sources hold the revision's
    /// submodules too. Set only when the revision has a <c>.gitmodules</c>; absent means the tree alone.
    /// </summary>
    [Description("PipelineLib's fetch.submodules: the run's sources include the revision's git submodules (fetched by the builder under its submodule policy). Set only when the revision has a .gitmodules; absent means the tree alone.")]
    public bool? Submodules { get; init; }

    /// <summary>
    /// PipelineLib's <c>fetch.shallow</c> and <c>fetch.depth</c>: how many commits the build's checkout (<c>.git</c>) holds;
    /// 0 for the whole history. Absent: PipelineLib's default of 20.
    /// </summary>
    [Description("PipelineLib's fetch.shallow/fetch.depth: how many commits the build workspace's .git holds; 0 for the whole history. Absent: PipelineLib's default, 20.")]
    [Range(0, 1_000_000)]
    public int? FetchDepth { get; init; }

    /// <summary>
    /// PipelineLib's <c>fetch.tags</c>: the build's checkout (<c>.git</c>) also holds the project's tags, each with
    /// <see cref="FetchDepth"/> commits of its history. Absent: no tags (PipelineLib's default).
    /// </summary>
    [Description("PipelineLib's fetch.tags: the build workspace's .git also holds the project's tags (each with fetchDepth commits of history), fetched by the builder from its git server when a build first needs the workspace. Absent: no tags, PipelineLib's default.")]
    public bool? FetchTags { get; init; }
}

/// <summary>A stage: a named, ordered list of steps.</summary>
[Description("A stage: a named, ordered list of steps.")]
public sealed record PlanStage
{
    /// <summary>Stage name, unique in the plan.</summary>
    [Description("Stage name, unique in the plan.")]
    [RegularExpression(ContractPatterns.Name), MaxLength(128)]
    public required string Name { get; init; }

    /// <summary>The steps, in execution order.</summary>
    [Description("The steps, in execution order.")]
    public required IReadOnlyList<PlanStep> Steps { get; init; }

    /// <summary>PipelineLib's <c>notify</c> (the stage's merged over its pipeline's): who is told when a step of the stage fails.</summary>
    [Description("PipelineLib notify (the stage's over its pipeline's): who is told (notify.requested) when a step of this stage fails; absent when nobody.")]
    public StageNotify? Notify { get; init; }
}

/// <summary>A stage's failure notice, interpolated at planning.</summary>
[Description("A stage's failure notice: email recipients, subject and body, interpolated at planning.")]
public sealed record StageNotify
{
    /// <summary>Email recipients; an entry holding runtime outputs shows them as written (its template is <c>to[i]</c> in <see cref="Runtime"/>).</summary>
    [Description("Email recipients; an entry holding runtime outputs (e.g. ${owners.output}) shows them as written, its template is runtime's to[i], resolved when notify.requested is emitted and split on commas and white space.")]
    [MaxLength(50)]
    public required IReadOnlyList<string> To { get; init; }

    /// <summary>Subject line.</summary>
    [MaxLength(998)]
    public required string Subject { get; init; }

    /// <summary>Body text.</summary>
    [MaxLength(16384)]
    public required string Body { get; init; }

    /// <summary><c>subject</c>, <c>body</c> and <c>to[i]</c> when they hold runtime outputs; resolved when the notice is emitted.</summary>
    [Description("subject, body and to[i] when they hold runtime outputs (e.g. ${test.output}), resolved when notify.requested is emitted; absent when none.")]
    [MaxLength(52)]
    public IReadOnlyDictionary<string, RuntimeTemplate>? Runtime { get; init; }

    /// <summary><c>notify.email.to</c> written as <c>$each</c>/<c>$in</c> over a runtime output, expanded when the notice is emitted.</summary>
    [Description("notify.email.to written as $each/$in over a runtime output: the recipients are expanded from it when notify.requested is emitted (added to to, at most 50 in all).")]
    public RuntimeComprehension? ToEach { get; init; }
}

/// <summary>
/// One step. Exactly the parameter object matching <see cref="Kind"/> is set: <c>build</c> for build,
/// <c>run</c> for test, <c>smoke</c> for smoke, <c>publish</c>, <c>deploy</c>, <c>promote</c>.
/// </summary>
[Description("One step; the parameter object named after its kind is set (run for test).")]
public sealed record PlanStep
{
    /// <summary>Step name, unique in the plan (the canonical flow uses <c>&lt;stage&gt;-&lt;kind&gt;</c>, e.g. <c>test-build</c>).</summary>
    [Description("Step name, unique in the plan.")]
    [RegularExpression(ContractPatterns.Name), MaxLength(128)]
    public required string Name { get; init; }

    /// <summary>What the step does, and so which service performs it.</summary>
    [Description("What the step does, and so which service performs it.")]
    public required StepKind Kind { get; init; }

    /// <summary>For <see cref="StepKind.Build"/>.</summary>
    [Description("Parameters when kind is build.")]
    public BuildParams? Build { get; init; }

    /// <summary>For <see cref="StepKind.Test"/>.</summary>
    [Description("Parameters when kind is test.")]
    public RunParams? Run { get; init; }

    /// <summary>For <see cref="StepKind.Smoke"/>.</summary>
    [Description("Parameters when kind is smoke.")]
    public SmokeParams? Smoke { get; init; }

    /// <summary>For <see cref="StepKind.Publish"/>.</summary>
    [Description("Parameters when kind is publish.")]
    public PublishParams? Publish { get; init; }

    /// <summary>For <see cref="StepKind.Deploy"/>.</summary>
    [Description("Parameters when kind is deploy.")]
    public DeployParams? Deploy { get; init; }

    /// <summary>For <see cref="StepKind.Promote"/>.</summary>
    [Description("Parameters when kind is promote.")]
    public PromoteParams? Promote { get; init; }

    /// <summary>For <see cref="StepKind.Trigger"/>.</summary>
    [Description("Parameters when kind is trigger.")]
    public TriggerParams? Trigger { get; init; }

    /// <summary>
    /// The step's fields that hold runtime outputs (PipelineLib's <c>${lint.output}</c>, <c>${publish.imageTag}</c>), keyed
    /// <c>run.arguments[i]</c>, <c>run.env.NAME</c>, <c>run</c>'s <c>copy[i].source</c> / <c>copy[i].destination</c>,
    /// <c>trigger.parameters.NAME</c>, <c>build.excludes[i]</c>, <c>publish.image.name</c>, <c>publish.image.tag</c> or
    /// <c>publish.image.tags[i]</c>; the field itself shows the text with the references as written. The performing
    /// service resolves them from the run's results.
    /// </summary>
    [Description("Fields holding runtime outputs, keyed run.arguments[i], run.env.NAME, copy[i].source, copy[i].destination (run.copy's i-th entry, resolved and checked as a path when the tester copies), trigger.parameters.NAME, build.excludes[i], publish.image.name, publish.image.tag or publish.image.tags[i] (the field itself shows ${stage.name} as written); resolved by the service performing the step. Absent when none.")]
    [MaxLength(1000)]
    public IReadOnlyDictionary<string, RuntimeTemplate>? Runtime { get; init; }
}

/// <summary>What a step does.</summary>
[Description("build: builder builds an image variant; test: tester runs an image's entry point; smoke: tester runs the image and checks it from outside; publish: publisher pushes to the registry; deploy: deployer rolls out to an environment; promote: deployer records the image in the configuration registry; trigger: publisher asks for a downstream job (trigger.requested, and the operator's webhook for it).")]
public enum StepKind
{
    /// <summary>The builder builds a Blubber variant into an image.</summary>
    Build,

    /// <summary>The tester runs an image's entry point; it must exit 0.</summary>
    Test,

    /// <summary>The tester starts the image in isolation and checks it from outside (health, OpenAPI <c>x-amples</c>).</summary>
    Smoke,

    /// <summary>The publisher pushes the image to the registry.</summary>
    Publish,

    /// <summary>The deployer rolls the image out to an environment.</summary>
    Deploy,

    /// <summary>The deployer records the image for environments in the configuration registry without rolling out.</summary>
    Promote,

    /// <summary>The publisher asks for a downstream job (PipelineLib's <c>trigger</c>): an event, and the operator's webhook.</summary>
    Trigger,
}

/// <summary>Parameters of a build step.</summary>
[Description("Parameters of a build step.")]
public sealed record BuildParams
{
    /// <summary>The Blubber variant to build, e.g. <c>test</c> or <c>production</c>.</summary>
    [MaxLength(128)]
    public required string Variant { get; init; }

    /// <summary>Blubber file, relative to the repository root; default <c>.pipeline/blubber.yaml</c>.</summary>
    [Description("Blubber file, relative to the repository root; default .pipeline/blubber.yaml.")]
    [MaxLength(1024)]
    public string? Blubberfile { get; init; }

    /// <summary>Build context directory, relative to the repository root; default <c>.</c>.</summary>
    [Description("Build context directory, relative to the repository root; default '.'.")]
    [MaxLength(1024)]
    public string? Context { get; init; }

    /// <summary>
    /// An inline Blubber config (PipelineLib's <c>blubberfile</c> object), as JSON text; when set, <see cref="Blubberfile"/>
    /// only names it in messages.
    /// </summary>
    [Description("An inline Blubber config (PipelineLib's blubberfile object) as JSON text; when set, blubberfile only names it. Absent for a file.")]
    [MaxLength(262_144)]
    public string? BlubberConfig { get; init; }

    /// <summary>
    /// PipelineLib's <c>build.excludes</c>: <c>.dockerignore</c> lines that replace the context's own <c>.dockerignore</c>
    /// for this build; absent keeps the context's file.
    /// </summary>
    [Description("Lines that replace the build context's .dockerignore for this build (PipelineLib's build.excludes); absent keeps the context's own.")]
    public IReadOnlyList<string>? Excludes { get; init; }

    /// <summary>
    /// <c>build.excludes</c> written as <c>$each</c>/<c>$in</c> over a runtime output: the lines are expanded from it when the
    /// step builds (then <see cref="Excludes"/> is absent). Items of <see cref="Excludes"/> holding runtime outputs are in
    /// <see cref="PlanStep.Runtime"/> as <c>build.excludes[i]</c>.
    /// </summary>
    [Description("build.excludes written as $each/$in over a runtime output (e.g. ${list.output}): the lines are expanded from it when the step builds; excludes is then absent.")]
    public RuntimeComprehension? ExcludesEach { get; init; }

    /// <summary>
    /// Why the planner refused this build (its Blubber file or variant); the step then fails with this reason without
    /// building, and only the steps that need its image do not run.
    /// </summary>
    [Description("Why the planner refused this build (its Blubber file or variant): the step fails with this reason without building; absent when the build is planned.")]
    [MaxLength(4096)]
    public string? Refusal { get; init; }
}

/// <summary>Parameters of a test step: which image to run, and how.</summary>
[Description("Parameters of a test step: which image to run and how.")]
public sealed record RunParams
{
    /// <summary>The build step whose image runs; default the stage's last build step.</summary>
    [MaxLength(128)]
    public string? ImageFrom { get; init; }

    /// <summary>Arguments passed to the entry point.</summary>
    [Description("Arguments passed to the entry point.")]
    public IReadOnlyList<string>? Arguments { get; init; }

    /// <summary>
    /// <c>run.arguments</c> written as <c>$each</c>/<c>$in</c> over a runtime output: the arguments are expanded from it when
    /// the step runs (then <see cref="Arguments"/> is absent).
    /// </summary>
    [Description("run.arguments written as $each/$in over a runtime output (e.g. ${sequence.output}): the argument list is expanded from it when the step runs; arguments is then absent.")]
    public RuntimeComprehension? ArgumentsEach { get; init; }

    /// <summary>Environment variables (from the config, never secrets).</summary>
    [Description("Environment variables (from the config, never secrets).")]
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>
    /// PipelineLib's <c>run.credentials</c>: operator-defined secrets the tester puts in the container's environment
    /// (only in runs after merge, only for allowed projects). The plan names them; it never carries a value.
    /// </summary>
    [Description("Operator-defined secrets (run.credentials) the tester binds to environment variables; ids and variable names only, never values. Only in runs after merge.")]
    [MaxLength(32)]
    public IReadOnlyList<RunCredential>? Credentials { get; init; }

    /// <summary>
    /// PipelineLib's <c>copy</c>: paths the tester copies out of this step's container once its entry point exited 0,
    /// into the run's artifact store, where the later stages' builds get them in their build context.
    /// </summary>
    [Description("PipelineLib copy: paths copied out of this step's container after it exited 0, into the run's workspace for the builds of the stages that follow (and kept as run artifacts when archive is true).")]
    [MaxLength(RunCopy.MaxEntries)]
    public IReadOnlyList<RunCopy>? Copy { get; init; }

    /// <summary>
    /// PipelineLib's <c>copy</c> entries of later stages that copy out of this step's container
    /// (<c>from: ${&lt;this stage&gt;.container}</c>), grouped by the stage they belong to. Copied with this step's own
    /// copies, while the stopped container still exists; the files are that later stage's (its descendants' builds get
    /// them, its archived files are listed under it). Absent when no later stage copies from this container.
    /// </summary>
    [Description("PipelineLib copy entries of later stages whose from is this step's container (${<this stage>.container}), grouped by the stage they belong to: copied with this step's own copies after it exited 0, into that stage's files (its descendants' builds get them; archived ones are listed under it). Absent when none.")]
    [MaxLength(StageCopy.MaxStages)]
    public IReadOnlyList<StageCopy>? CopyFor { get; init; }

    /// <summary>How many lines of output to keep in the result's <c>outputTail</c>.</summary>
    [Description("How many lines of output to keep in the result's outputTail.")]
    [Range(0, 10_000)]
    public int? Tail { get; init; }

    /// <summary>Time limit in milliseconds; the tester's default when absent.</summary>
    [Range(1, long.MaxValue)]
    public long? TimeoutMs { get; init; }
}

/// <summary>One <c>copy</c> entry: a path of the run container, and where it goes in the run's workspace.</summary>
[Description("One copy entry: a file or directory of the run step's container and its place in the run's workspace.")]
public sealed record RunCopy
{
    /// <summary>Most entries in one stage's <c>copy</c>.</summary>
    public const int MaxEntries = 64;

    /// <summary>
    /// Absolute path in the container (PipelineLib: relative to the container's root); a trailing <c>/</c> names a
    /// directory. Holding runtime outputs (the step's runtime key <c>copy[i].source</c>), it shows them as written.
    /// </summary>
    [Description("Absolute, normalized path in the run step's container; a directory's contents are copied. When it holds runtime outputs (the step's runtime key copy[i].source) it shows them as written and the tester resolves and checks it before copying.")]
    [MaxLength(1024)]
    public required string Source { get; init; }

    /// <summary>Relative path in the run's workspace (the repository's root), normalized; a trailing <c>/</c> puts a file inside it.</summary>
    [Description("Path relative to the repository root where the copy lands; ends with '/' when a copied file goes inside that directory. When it holds runtime outputs (the step's runtime key copy[i].destination) it shows them as written and the tester resolves and checks it before copying.")]
    [MaxLength(1024)]
    public required string Destination { get; init; }

    /// <summary>PipelineLib's <c>archive</c>: the copied files are also kept as the run's artifacts.</summary>
    [Description("True when the copied files are also kept as run artifacts, downloadable from the run's page.")]
    public bool Archive { get; init; }
}

/// <summary>A later stage's <c>copy</c> entries that copy out of another stage's run container.</summary>
[Description("A later stage's copy entries that copy out of this step's container: the files belong to that stage.")]
public sealed record StageCopy
{
    /// <summary>Most stages that copy out of one run container.</summary>
    public const int MaxStages = 64;

    /// <summary>The stage the copied files belong to (whose <c>copy</c> names this step's container).</summary>
    [Description("The stage whose copy names this step's container; the copied files are that stage's.")]
    [MaxLength(128)]
    public required string Stage { get; init; }

    /// <summary>That stage's entries naming this container, in its <c>copy</c> order.</summary>
    [Description("That stage's copy entries naming this container, in its copy order.")]
    [MaxLength(RunCopy.MaxEntries)]
    public required IReadOnlyList<RunCopy> Copy { get; init; }
}

/// <summary>A credential a run step gets: the operator's id and the environment variable it is bound to.</summary>
[Description("A credential bound to a run step's environment variable.")]
public sealed record RunCredential
{
    /// <summary>The operator's credential id (<c>Pipeline:Credentials:&lt;id&gt;</c>).</summary>
    [Description("The operator's credential id (configuration Pipeline:Credentials:<id>).")]
    [MaxLength(128)]
    public required string Id { get; init; }

    /// <summary>The environment variable that holds the value in the container.</summary>
    [Description("The environment variable that holds the value in the run step's container.")]
    [RegularExpression("^[A-Za-z_][A-Za-z0-9_]{0,127}$"), MaxLength(128)]
    public required string Name { get; init; }
}

/// <summary>Parameters of a smoke step: how to reach the service started from the image.</summary>
[Description("Parameters of a smoke step: how to reach the service started from the image.")]
public sealed record SmokeParams
{
    /// <summary>The build step whose image is checked; default the stage's last build step.</summary>
    [MaxLength(128)]
    public string? ImageFrom { get; init; }

    /// <summary>The port the service listens on inside the container.</summary>
    [Description("The port the service listens on inside the container.")]
    [Range(1, 65535)]
    public int? Port { get; init; }

    /// <summary>Path of the OpenAPI document whose <c>x-amples</c> are checked, e.g. <c>/?spec</c>.</summary>
    [Description("Path of the OpenAPI document whose x-amples are checked, e.g. /?spec.")]
    [MaxLength(1024)]
    public string? SpecPath { get; init; }

    /// <summary>Path answering the liveness/readiness check, e.g. <c>/healthz</c>.</summary>
    [Description("Path answering the liveness/readiness check, e.g. /healthz.")]
    [MaxLength(1024)]
    public string? HealthPath { get; init; }

    /// <summary>Time limit in milliseconds for start-up and checks together.</summary>
    [Range(1, long.MaxValue)]
    public long? TimeoutMs { get; init; }
}

/// <summary>Parameters of a publish step.</summary>
[Description("Parameters of a publish step.")]
public sealed record PublishParams
{
    /// <summary>The build step whose image is published; default the stage's last build step.</summary>
    [MaxLength(128)]
    public string? ImageFrom { get; init; }

    /// <summary>Image name in the registry; default the project name.</summary>
    [Description("Image name in the registry; default the project name. When it holds runtime outputs (step runtime key publish.image.name) the publisher resolves it and checks it against the project.")]
    [MaxLength(256)]
    public string? Name { get; init; }

    /// <summary>Tags beyond the two always pushed (<c>&lt;UTC timestamp&gt;-&lt;stage&gt;</c> and the commit SHA).</summary>
    [Description("Tags pushed beyond the two always pushed (<UTC timestamp>-<stage> and the commit SHA). An item holding runtime outputs (step runtime key publish.image.tags[i]) is resolved by the publisher, then sanitized and checked; one resolving to latest is dropped.")]
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>PipelineLib's primary tag (<c>publish.image.tag</c>, sanitized): the value of <c>${&lt;stage&gt;.imageTag}</c>.</summary>
    [Description("The primary tag (publish.image.tag, sanitized): PipelineLib's ${<stage>.imageTag}. Absent: the <UTC timestamp>-<stage> tag. When it holds runtime outputs (step runtime key publish.image.tag) the publisher resolves it.")]
    [MaxLength(128)]
    public string? Tag { get; init; }

    /// <summary>
    /// <c>publish.image.tags</c> written as <c>$each</c>/<c>$in</c> over a runtime output: the tags are expanded from it when
    /// the step runs, sanitized and checked like <see cref="Tags"/> (then <see cref="Tags"/> holds only the primary tag).
    /// </summary>
    [Description("publish.image.tags written as $each/$in over a runtime output (e.g. ${versions.output}): the tags are expanded from it when the step runs, sanitized and checked like tags.")]
    public RuntimeComprehension? TagsEach { get; init; }
}

/// <summary>Parameters of a deploy step.</summary>
[Description("Parameters of a deploy step.")]
public sealed record DeployParams
{
    /// <summary>Target environment, e.g. <c>staging</c> or <c>production</c>.</summary>
    [RegularExpression(ContractPatterns.Name), MaxLength(128)]
    public required string Environment { get; init; }

    /// <summary>The service (release) name in that environment; default the project's short name.</summary>
    [MaxLength(128)]
    public string? Service { get; init; }

    /// <summary>True when a human must approve before the rollout starts (production).</summary>
    [Description("True when a human must approve before the rollout starts (production).")]
    public bool RequiresApproval { get; init; }

    /// <summary>The publish step whose image is rolled out (PipelineLib's <c>${&lt;stage&gt;.imageName}</c>); absent: the run's last published image.</summary>
    [Description("The publish step whose image is rolled out (PipelineLib's ${<stage>.imageName}/${<stage>.imageTag}); absent means the run's last published image.")]
    [MaxLength(128)]
    public string? ImageFrom { get; init; }

    /// <summary>The rollout stages in order; absent means one <c>full</c> stage.</summary>
    [Description("The rollout stages in order; absent means one full stage.")]
    public IReadOnlyList<RolloutPhase>? Rollout { get; init; }
}

/// <summary>One stage of a rollout: how much of the traffic/instances get the new image.</summary>
[Description("One stage of a rollout.")]
public sealed record RolloutPhase
{
    /// <summary>canary, partial or full.</summary>
    public required RolloutStage Stage { get; init; }

    /// <summary>Share of instances running the new image at this stage, 1-100.</summary>
    [Range(1, 100)]
    public required int Percentage { get; init; }
}

/// <summary>Parameters of a promote step.</summary>
[Description("Parameters of a promote step.")]
public sealed record PromoteParams
{
    /// <summary>Chart or service whose version is updated; default the project's short name.</summary>
    [Description("Chart or service whose version is updated; default the project's short name.")]
    [MaxLength(256)]
    public string? Chart { get; init; }

    /// <summary>Environments whose configuration gets the new version.</summary>
    [Description("Environments whose configuration gets the new version.")]
    public required IReadOnlyList<string> Environments { get; init; }

    /// <summary>The publish step whose image is promoted (PipelineLib's <c>${.imageTag}</c>: the stage's own); absent: the run's last published image.</summary>
    [Description("The publish step whose image is promoted (PipelineLib's default version ${.imageTag}: the stage's own publish); absent means the run's last published image.")]
    [MaxLength(128)]
    public string? ImageFrom { get; init; }

    /// <summary>Those of <see cref="Environments"/> that need an approver's approval before anything is written.</summary>
    [Description("The environments (of environments) that need a human's approval before the step writes anything; absent when none.")]
    public IReadOnlyList<string>? RequiresApprovalFor { get; init; }
}

/// <summary>Parameters of a trigger step (PipelineLib's <c>trigger</c>).</summary>
[Description("Parameters of a trigger step (PipelineLib's trigger): the downstream job and its parameters.")]
public sealed record TriggerParams
{
    /// <summary>The downstream job's name.</summary>
    [MaxLength(128)]
    public required string Job { get; init; }

    /// <summary>The job's parameters, interpolated at planning (runtime outputs as written: see <see cref="PlanStep.Runtime"/>).</summary>
    [Description("The job's parameters, interpolated at planning; a value holding runtime outputs shows them as written and is resolved from the step's runtime (trigger.parameters.NAME).")]
    public IReadOnlyDictionary<string, string>? Parameters { get; init; }
}

/// <summary>A node of the execution graph: a stage and the stages it waits for.</summary>
[Description("A stage and the stages that must succeed before it starts.")]
public sealed record PlanGraphNode
{
    /// <summary>Stage name.</summary>
    [Description("The stage's name.")]
    [MaxLength(128)]
    public required string Stage { get; init; }

    /// <summary>Stages that must all succeed before this one starts; empty for roots.</summary>
    [Description("Stages that must all succeed before this one starts; empty for roots.")]
    public required IReadOnlyList<string> DependsOn { get; init; }
}
