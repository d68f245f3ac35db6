using Docker.DotNet;
using Microsoft.Extensions.Options;
using Slipway.Builder.Building;
using Slipway.Builder.Building.Egress;
using Slipway.Builder.Git;
using Slipway.Builder.Runs;
using Slipway.Builder.Triggers;
using Slipway.Contracts;
using Slipway.Hosting;
using Slipway.Hosting.Options;
using Slipway.Hosting.Runs;
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
    var services = builder.Services;
    services.AddValidatedOptions<DockerOptions>(config, DockerOptions.Section);
    services.AddValidatedOptions<BuilderRunOptions>(config, BuilderRunOptions.Section);
    services.AddValidatedOptions<TriggerOptions>(config, TriggerOptions.Section);
    services.AddValidatedOptions<BuilderOptions>(config, BuilderOptions.Section);
    services.AddSingleton<IDockerClient>(sp =>
        new DockerClientConfiguration(new Uri(sp.GetRequiredService<IOptions<DockerOptions>>().Value.Endpoint!)).CreateClient());
    services.AddSingleton(sp => sp.GetRequiredService<IOptions<BuilderOptions>>().Value);
    services.AddValidatedOptions<BuildEgressOptions>(config, BuildEgressOptions.Section);
    services.AddSingleton(sp => sp.GetRequiredService<IOptions<BuildEgressOptions>>().Value);
    services.AddSingleton<BuildEgress>();
    services.AddHostedService(sp => sp.GetRequiredService<BuildEgress>());
    services.AddSingleton(sp => new GitRevisionCache(Path.Combine(sp.GetRequiredService<IOptions<BuilderRunOptions>>().Value.WorkDir, "git"),
        sp.GetRequiredService<ILogger<GitRevisionCache>>()));
    services.AddSingleton<ImageBuilder>();
    services.AddSingleton<Workspaces>();
    services.AddSingleton<ChangeRuns>();
    services.AddMigrationsFrom(typeof(ChangeRuns).Assembly);
    services.AddSingleton<IStepPerformer, BuildStepPerformer>();
    services.AddSingleton<IJobHandler, PlanRunJob>();
    services.AddRunTracking(config);
    services.AddEventConsumer<BuilderEventHandler>("builder", Topics.GerritEvents, Topics.PipelineEvents);
});
