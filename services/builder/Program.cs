using Docker.DotNet;
using Microsoft.Extensions.Options;
using Slipway.Artifacts;
using Slipway.Builder.Building;
using Slipway.Builder.Building.BuildKit;
using Slipway.Builder.Building.Egress;
using Slipway.Builder.Git;
using Slipway.Builder.Runs;
using Slipway.Builder.Triggers;
using Slipway.Contracts;
using Slipway.Gerrit;
using Slipway.Hosting;
using Slipway.Containers;
using Slipway.Runs;
using Slipway.Messaging;
using Slipway.Storage;
using Slipway.Storage.Jobs;

// The builder: Gerrit events start runs (trigger rules → plan from .pipeline/ → run.started); each stage's build
// is a job that fetches the exact revision and builds the Blubber variant through the Docker engine.
return await SlipwayService.RunAsync(args, new SlipwayServiceDefinition("builder", "builder"), builder =>
{
    var config = builder.Configuration;
    // The git server defaults to Gerrit's own (git http-backend beside its REST API).
    if (string.IsNullOrWhiteSpace(config["Builder:GitUrl"]) && config["Gerrit:Url"] is { Length: > 0 } gerritUrl)
        config["Builder:GitUrl"] = gerritUrl;
    // Build logs live with the rest of the builder's work unless configured elsewhere.
    if (string.IsNullOrWhiteSpace(config["Builder:LogDir"]) && config["Builder:WorkDir"] is { Length: > 0 } workDir)
        config["Builder:LogDir"] = Path.Combine(workDir, "logs");
    // Base images come from the organisation's registry: pull with its credentials unless others are configured.
    if (string.IsNullOrWhiteSpace(config["Builder:RegistryAuth:0:Url"]) && config["Registry:Url"] is { Length: > 0 } registry)
    {
        config["Builder:RegistryAuth:0:Url"] = registry;
        config["Builder:RegistryAuth:0:Username"] = config["Registry:Username"];
        config["Builder:RegistryAuth:0:Password"] = config["Registry:Password"];
    }
    // The default image policy: base images only from the organisation's registry (the one pulled from) unless others are listed.
    if (string.IsNullOrWhiteSpace(config["Builder:AllowedBaseRegistries:0"])
        && (config["Registry:Url"] is { Length: > 0 } ? config["Registry:Url"] : config["Builder:RegistryAuth:0:Url"]) is { Length: > 0 } ownRegistry)
        config["Builder:AllowedBaseRegistries:0"] = ownRegistry;
    var services = builder.Services;
    services.AddDockerEngine(config);
    services.AddValidatedOptions<BuilderOptions>(config, BuilderOptions.Section);
    services.AddValidatedOptions<LocalFileRetentionOptions>(config, LocalFileRetentionOptions.Section);
    services.AddHostedService<LocalFileCleaner>(); // build logs and context archives left by killed builds
    services.AddValidatedOptions<TriggerOptions>(config, TriggerOptions.Section);
    services.AddValidatedOptions<RevisionTreeOptions>(config, RevisionTreeOptions.Section);
    services.AddValidatedOptions<ReleasePolicyOptions>(config, "");
    services.AddSingleton(sp => sp.GetRequiredService<IOptions<ReleasePolicyOptions>>().Value.ToPlanningOptions());
    services.AddSingleton(sp => sp.GetRequiredService<IOptions<BuilderOptions>>().Value);
    services.AddValidatedOptions<BuildEgressOptions>(config, BuildEgressOptions.Section);
    services.AddSingleton(sp => sp.GetRequiredService<IOptions<BuildEgressOptions>>().Value);
    services.AddSingleton<BuildEgress>();
    services.AddHostedService(sp => sp.GetRequiredService<BuildEgress>());
    services.AddSingleton(sp => new GitRevisionCache(Path.Combine(sp.GetRequiredService<BuilderOptions>().WorkDir, "git"),
        sp.GetRequiredService<ILogger<GitRevisionCache>>()) { TreeLimits = sp.GetRequiredService<IOptions<RevisionTreeOptions>>().Value });
    services.AddSingleton<BuildStepCgroup>();
    services.AddSingleton<ImageBuilder>();
    services.AddValidatedOptions<SubmoduleOptions>(config, SubmoduleOptions.Section);
    services.AddSingleton(sp => new Workspaces(sp.GetRequiredService<GitRevisionCache>(), sp.GetRequiredService<BuilderOptions>(),
        sp.GetRequiredService<IOptions<SubmoduleOptions>>().Value));
    services.AddSingleton<BuildAhead>();
    services.AddHostedService<WorkspaceCleaner>(); // workspaces of finished runs another instance exported, or whose deletion failed
    services.AddHostedService<LocalImageCleaner>(); // local images of runs finished longer ago than Retention:LocalImages
    // PipelineLib's copy: files the tester copied out of earlier stages' run containers, laid over later builds' trees.
    services.AddValidatedOptions<ArtifactOptions>(config, ArtifactOptions.Section);
    services.AddSingleton(sp => sp.GetRequiredService<IOptions<ArtifactOptions>>().Value);
    services.AddSingleton<RunArtifactStore>();
    services.AddSingleton<CopiedFilesOverlay>();
    services.AddSingleton<ChangeRuns>();
    services.AddSingleton<RunStartSeconds>();
    services.AddSingleton(SlipwayAccounts.From(config.GetSection(GerritOptions.Section).Get<GerritOptions>())); // its own comments never start a recheck
    services.AddMigrationsFrom(typeof(ChangeRuns).Assembly);
    services.AddSingleton<IStepPerformer, BuildStepPerformer>();
    services.AddSingleton<IJobHandler, PlanRunJob>();
    services.AddRunTracking(config);
    services.AddEventConsumer<BuilderEventHandler>("builder", Topics.GerritEvents, Topics.PipelineEvents);
});
