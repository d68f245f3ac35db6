using Microsoft.Extensions.Options;
using Slipway.Contracts;
using Slipway.Deployer;
using Slipway.Deployer.Api;
using Slipway.Deployer.Approvals;
using Slipway.Deployer.Backends;
using Slipway.Deployer.Backends.Docker;
using Slipway.Deployer.Backends.Kubernetes;
using Slipway.Deployer.ChartsChange;
using Slipway.Deployer.Config;
using Slipway.Deployer.Rollout;
using Slipway.Gerrit;
using Slipway.Hosting;
using Slipway.Containers;
using Slipway.Runs;
using Slipway.Messaging;
using Slipway.Storage;
using Slipway.Storage.Jobs;

// The deployer: records each published image in the configuration registry (git) and rolls it out to staging,
// and to production after approval, stage by stage with automatic rollback; an API for approve and rollback.
return await SlipwayService.RunAsync(args, new SlipwayServiceDefinition("deployer", "deployer"), builder =>
{
    var config = builder.Configuration;
    var services = builder.Services;
    services.AddValidatedOptions<DeployerOptions>(config, DeployerOptions.Section);
    services.AddValidatedOptions<ConfigRegistryOptions>(config, ConfigRegistryOptions.Section);
    services.AddValidatedOptions<ServiceOwnersOptions>(config, ServiceOwnersOptions.Section);
    services.AddSingleton(sp => sp.GetRequiredService<IOptions<ConfigRegistryOptions>>().Value);
    services.AddSingleton<ConfigRegistry>();
    services.AddMigrationsFrom(typeof(DeploymentLedger).Assembly);

    if ((config["Deployer:Backend"] ?? "docker") == "kubernetes")
    {
        services.AddValidatedOptions<KubernetesOptions>(config, KubernetesOptions.Section);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<KubernetesOptions>>().Value);
        services.AddSingleton(sp => sp.GetRequiredService<KubernetesOptions>().CreateClient());
        services.AddSingleton<IDeploymentBackend, KubernetesBackend>();
    }
    else
    {
        // The docker backend pulls with read credentials when the registry needs them.
        services.AddValidatedOptions<DockerOptions>(config, DockerOptions.Section);
        services.AddValidatedOptions<DockerBackendOptions>(config, DockerBackendOptions.Section);
        services.AddSingleton<IDeploymentBackend>(sp => new DockerBackend(
            sp.GetRequiredService<IOptions<DockerOptions>>().Value, sp.GetRequiredService<IOptions<DockerBackendOptions>>().Value,
            config.GetSection(RegistryOptions.Section).Get<RegistryOptions>(), sp.GetRequiredService<ILogger<DockerBackend>>()));
    }

    services.AddSingleton<DeploymentLedger>();
    services.AddSingleton<RolloutGate>();
    services.AddSingleton<ApprovalDesk>();
    services.AddSingleton(SlipwayAccounts.From(config.GetSection(GerritOptions.Section).Get<GerritOptions>())); // its own comments never approve
    services.AddSingleton<ManualRollback>();
    services.AddSingleton<ManualRollbackRequests>();
    services.AddSingleton<IJobHandler, ManualRollbackJob>();
    services.AddRetentionRule(s => new Slipway.Storage.Retention.RetentionRule("manual_rollbacks", $"{s.Value}.manual_rollbacks", "finished_at < @cutoff"));
    services.AddSingleton<IStepPerformer, DeployStepPerformer>();
    // Promote's change in the charts project for reviewers (PipelineLib), with the operator's Gerrit credentials; off unless enabled.
    services.AddValidatedOptions<ChartsChangeOptions>(config, ChartsChangeOptions.Section);
    services.PostConfigure<ChartsChangeOptions>(o => o.WithGerritDefaults(config.GetSection(GerritOptions.Section).Get<GerritOptions>()));
    services.AddSingleton(sp => sp.GetRequiredService<IOptions<ChartsChangeOptions>>().Value);
    services.AddSingleton<ChartsChangeProposer>();
    services.AddSingleton<IStepPerformer, PromoteStepPerformer>();
    services.AddRunTracking(config);
    services.AddEventConsumer<DeployerEventHandler>("deployer", Topics.GerritEvents, Topics.PipelineEvents);
}, app => app.MapDeployerApi());
