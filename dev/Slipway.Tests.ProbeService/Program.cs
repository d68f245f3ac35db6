using Slipway.Hosting;
using Slipway.Messaging;
using Slipway.Storage;
using Slipway.Storage.Jobs;
using Slipway.Tests.ProbeService;

// A test-only service on the shared host; the integration tests run it as separate processes.
return await SlipwayService.RunAsync(args,
    new SlipwayServiceDefinition("probe", Environment.GetEnvironmentVariable("Probe__Schema") ?? "probe"), builder =>
{
    // Probe:InTopic lets a second probe consume the first one's echoes (probe.out).
    builder.Services.AddEventConsumer<ProbeHandler>("probe", builder.Configuration["Probe:InTopic"] ?? "probe.in");
    builder.Services.AddSingleton<IJobHandler, SleepJobHandler>();
    builder.Services.AddJobWorkers(builder.Configuration);
});
