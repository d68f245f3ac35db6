using Slipway.Contracts;
using Slipway.Hosting;
using Slipway.Hosting.Options;
using Slipway.Messaging;
using Slipway.Storage;

// Deployer: see ../../README.md and ../shared/design.md ("Services") for its role.
return await SlipwayService.RunAsync(args, new SlipwayServiceDefinition("deployer", "deployer"), builder =>
{
    builder.Services.AddValidatedOptions<DockerOptions>(builder.Configuration, DockerOptions.Section);
    builder.Services.AddEventConsumer<EventObserver>("deployer", Topics.PipelineEvents);
});
