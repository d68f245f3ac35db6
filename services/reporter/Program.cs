using Slipway.Contracts;
using Slipway.Hosting;
using Slipway.Hosting.Options;
using Slipway.Messaging;
using Slipway.Storage;

// Reporter: see ../../README.md and ../shared/design.md ("Services") for its role.
return await SlipwayService.RunAsync(args, new SlipwayServiceDefinition("reporter", "reporter"), builder =>
{
    // Posts reviews over REST: only this service holds the Gerrit HTTP password.
    builder.Services.AddValidatedOptions<GerritRestOptions>(builder.Configuration, "");
    builder.Services.AddEventConsumer<EventObserver>("reporter", Topics.PipelineEvents);
});
