using Slipway.Contracts;
using Slipway.Hosting;
using Slipway.Hosting.Options;
using Slipway.Messaging;
using Slipway.Storage;

// GerritGateway: see ../../README.md and ../shared/design.md ("Services") for its role.
return await SlipwayService.RunAsync(args, new SlipwayServiceDefinition("gerrit-gateway", "gerrit_gateway"), builder =>
{
    // Reads Gerrit's event stream over SSH: only this service holds the SSH key.
    builder.Services.AddValidatedOptions<GerritStreamOptions>(builder.Configuration, "");
    builder.Services.AddEventConsumer<EventObserver>("gerrit-gateway", Topics.GerritEvents);
});
