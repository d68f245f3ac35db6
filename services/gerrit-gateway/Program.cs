using Slipway.Hosting;
using Slipway.Hosting.Options;
using Slipway.Storage;

// GerritGateway: see ../../README.md and ../shared/design.md ("Services") for its role.
return await SlipwayService.RunAsync(args, new SlipwayServiceDefinition("gerrit-gateway", "gerrit_gateway"), builder =>
{
    // Reads Gerrit's event stream over SSH: only this service holds the SSH key.
    builder.Services.AddValidatedOptions<GerritStreamOptions>(builder.Configuration, "");
    // The gateway produces gerrit.events and consumes no topic. Its SSH stream reader, webhook
    // endpoint and catch-up are not written yet (issue 3): today it only validates its settings.
});
