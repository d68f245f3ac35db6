using Slipway.Contracts;
using Slipway.Hosting;
using Slipway.Hosting.Options;
using Slipway.Messaging;
using Slipway.Storage;

// Publisher: see ../../README.md and ../shared/design.md ("Services") for its role.
return await SlipwayService.RunAsync(args, new SlipwayServiceDefinition("publisher", "publisher"), builder =>
{
    builder.Services.AddValidatedOptions<DockerOptions>(builder.Configuration, DockerOptions.Section);
    // Push credentials: only the publisher holds them.
    builder.Services.AddValidatedOptions<RegistryOptions>(builder.Configuration, RegistryOptions.Section);
    builder.Services.AddEventConsumer<EventObserver>("publisher", Topics.PipelineEvents);
});
