using Docker.DotNet;
using Microsoft.Extensions.Options;
using Slipway.Artifacts;
using Slipway.Hosting;
using Slipway.Containers;
using Slipway.Runs;
using Slipway.Storage;
using Slipway.Tester;
using Slipway.Tester.Copying;
using Slipway.Tester.Runs;
using Slipway.Tester.Smoke;
using Slipway.Tester.Testing;

// The tester: runs a built test image's entry point in isolation, and smoke-tests production images from outside.
return await SlipwayService.RunAsync(args, new SlipwayServiceDefinition("tester", "tester"), builder =>
{
    var services = builder.Services;
    services.AddDockerEngine(builder.Configuration);
    services.AddValidatedOptions<TesterOptions>(builder.Configuration, TesterOptions.Section);
    services.AddSingleton(sp => sp.GetRequiredService<IOptions<TesterOptions>>().Value);
    // Each smoke test makes its own HTTP client that can reach only the service under test (ServiceOnlyHttp).
    services.AddSingleton<SmokeTester>();
    // The smoke step's network and forwarder, made while the run's test step runs.
    services.AddSingleton<SmokeWarmPairs>();
    services.AddHostedService<SmokeLeftoverSweeper>();
    services.AddSingleton<TestRunner>();
    // PipelineLib's copy: files out of run containers into the run artifact directory the builder and reporter read.
    services.AddValidatedOptions<ArtifactOptions>(builder.Configuration, ArtifactOptions.Section);
    services.AddSingleton(sp => sp.GetRequiredService<IOptions<ArtifactOptions>>().Value);
    services.AddSingleton<RunArtifactStore>();
    services.AddSingleton<ContainerFileCopier>();
    services.AddValidatedOptions<RunCredentialsOptions>(builder.Configuration, RunCredentialsOptions.Section);
    services.AddSingleton(sp => new RunCredentials(sp.GetRequiredService<IOptions<RunCredentialsOptions>>().Value));
    services.AddSingleton<IStepPerformer, TestStepPerformer>();
    services.AddSingleton<IStepPerformer, SmokeStepPerformer>();
    services.AddRunTracking(builder.Configuration);
    services.AddStageEventConsumer("tester");
});
