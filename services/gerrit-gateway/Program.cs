using Microsoft.Extensions.DependencyInjection.Extensions;
using Slipway.GerritGateway;
using Slipway.GerritGateway.Stream;
using Slipway.Hosting;
using Slipway.Gerrit;

// The gateway: Gerrit's SSH event stream (plus catch-up after gaps, plus webhooks) in,
// gerrit.events out (through the outbox, once per event id).
return await SlipwayService.RunAsync(args, new SlipwayServiceDefinition("gerrit-gateway", "gerrit_gateway"), builder =>
{
    // Only this service holds the Gerrit SSH key.
    // The SSH stream, plus REST for catch-up (no credentials needed).
    builder.Services.AddValidatedOptions<GerritOptions>(builder.Configuration, GerritOptions.Section,
        gerrit => gerrit.ValidateSsh().Concat(gerrit.ValidateRest(requireCredentials: false)));
    builder.Services.AddValidatedOptions<GatewayOptions>(builder.Configuration, GatewayOptions.Section);
    builder.Services.AddSingleton<GerritEventWriter>();
    // Seen ids are needed only as long as a Gerrit event can arrive again (stream, webhook, catch-up).
    builder.Services.AddRetentionRule(s => new Slipway.Storage.Retention.RetentionRule("seen_events", $"{s.Value}.seen_events",
        "received_at < @cutoff"));
    builder.Services.AddRetentionRule(s => new Slipway.Storage.Retention.RetentionRule("published_comments", $"{s.Value}.published_comments",
        "received_at < @cutoff"));
    builder.Services.AddSingleton<GerritCatchUp>();
    builder.Services.TryAddSingleton(TimeProvider.System);
    builder.Services.AddSingleton<WebhookCommentConfirmer>();
    builder.Services.AddHostedService<GerritStreamWorker>();
    // The webhook token never reaches a log line, a log scope or a trace span.
    WebhookTokenServer.Install(builder.Services);
}, WebhookEndpoint.Map);
