using Docker.DotNet;
using Microsoft.Extensions.Options;
using Slipway.Hosting;
using Slipway.Containers;
using Slipway.Runs;
using Slipway.Publisher;
using Slipway.Publisher.Registry;
using Slipway.Publisher.Runs;
using Slipway.Publisher.Triggers;
using Slipway.Storage;
using Slipway.Contracts;
using Slipway.Messaging;

// The publisher: pushes the production image of merged commits to the registry (the only service with push
// credentials), tagged with the run's UTC timestamp and the commit SHA, and prunes old tags.
return await SlipwayService.RunAsync(args, new SlipwayServiceDefinition("publisher", "publisher"), builder =>
{
    var services = builder.Services;
    services.AddDockerEngine(builder.Configuration);
    services.AddValidatedOptions<RegistryOptions>(builder.Configuration, RegistryOptions.Section);
    services.AddValidatedOptions<PublisherOptions>(builder.Configuration, PublisherOptions.Section);
    services.AddSingleton(sp => sp.GetRequiredService<IOptions<RegistryOptions>>().Value);
    services.AddSingleton(sp => sp.GetRequiredService<IOptions<PublisherOptions>>().Value);
    services.AddHttpClient<RegistryClient>(http => http.Timeout = TimeSpan.FromSeconds(60));
    services.AddSingleton<ImagePublisher>();
    services.AddSingleton<ProtectedImages>();
    services.AddSingleton<ImageOwners>();
    services.AddSingleton<RetentionCleaner>();
    services.AddSingleton<IStepPerformer, PublishStepPerformer>();
    // PipelineLib's trigger: the operator's downstream jobs, requested by event and, when configured, by webhook.
    services.AddValidatedOptions<TriggerOptions>(builder.Configuration, TriggerOptions.Section);
    services.AddSingleton(sp => sp.GetRequiredService<IOptions<TriggerOptions>>().Value);
    services.AddHttpClient(TriggerStepPerformer.HttpClientName)
        .ConfigurePrimaryHttpMessageHandler(() => new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });
    services.AddSingleton<IStepPerformer, TriggerStepPerformer>();
    services.AddRunTracking(builder.Configuration);
    // One consumer: the stage logic plus what deploy events say retention must keep (same transaction, same inbox).
    services.AddScoped<StageEventHandler>();
    services.AddEventConsumer<PublisherEventHandler>("publisher", Topics.PipelineEvents);
});
