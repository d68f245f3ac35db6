using Microsoft.Extensions.Options;
using Slipway.Artifacts;
using Slipway.Contracts;
using Slipway.Gerrit.Rest;
using Slipway.Hosting;
using Slipway.Gerrit;
using Slipway.Messaging;
using Slipway.Reporter;
using Slipway.Reporter.Checks;
using Slipway.Reporter.Dashboard;
using Slipway.Reporter.Environments;
using Slipway.Reporter.Comments;
using Slipway.Reporter.Mail;
using Slipway.Reporter.Runs;
using Slipway.Storage;
using Slipway.Storage.Jobs;

// The reporter: pipeline events in, Gerrit review comments and votes out, notify mail, and run status pages.
return await SlipwayService.RunAsync(args, new SlipwayServiceDefinition("reporter", "reporter"), builder =>
{
    // Only this service holds the Gerrit HTTP password.
    builder.Services.AddValidatedOptions<GerritOptions>(builder.Configuration, GerritOptions.Section,
        gerrit => gerrit.ValidateRest(requireCredentials: true));
    builder.Services.AddValidatedOptions<ReporterOptions>(builder.Configuration, ReporterOptions.Section);
    builder.Services.AddHttpClient("gerrit", http => http.Timeout = TimeSpan.FromSeconds(20))
        .AddTypedClient<GerritRestClient>((http, sp) =>
        {
            var gerrit = sp.GetRequiredService<IOptions<GerritOptions>>().Value;
            return new GerritRestClient(http, gerrit.Url!, gerrit.HttpUser!, gerrit.HttpPassword!);
        });
    builder.Services.AddSingleton<RunLedger>();
    builder.Services.AddSingleton<RunDetails>();
    // Run artifacts (PipelineLib's copy with archive: true): listed from the events, served from the shared directory.
    builder.Services.AddValidatedOptions<ArtifactOptions>(builder.Configuration, ArtifactOptions.Section);
    builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<ArtifactOptions>>().Value);
    builder.Services.AddSingleton<RunArtifactStore>();
    builder.Services.AddSingleton<RunArtifactLedger>();
    builder.Services.AddSingleton<EnvironmentLedger>();
    builder.Services.AddSingleton<EnvironmentEvents>();
    // The environments page's approve and rollback forms go to the deployer's API; its rollbacks take minutes.
    if (builder.Configuration[$"{ReporterOptions.Section}:DeployerUrl"] is { Length: > 0 } deployerUrl)
        builder.Services.AddHttpClient<DeployerClient>(http =>
            {
                http.BaseAddress = new Uri(deployerUrl.TrimEnd('/') + "/");
                http.Timeout = TimeSpan.FromMinutes(10);
            })
            .RemoveAllLoggers(); // the request carries the approver's token: no request logging at any level
    builder.Services.AddEventConsumer<PipelineEventHandler>("reporter", Topics.PipelineEvents);
    builder.Services.AddSingleton<IJobHandler, GerritCommentJob>();
    // PipelineLib's notify mail, when the operator names an SMTP relay (Reporter:Mail:Host).
    builder.Services.AddValidatedOptions<MailOptions>(builder.Configuration, MailOptions.Section);
    builder.Services.AddSingleton<IJobHandler, NotifyMailJob>();
    builder.Services.AddJobWorkers(builder.Configuration);
}, app =>
{
    app.UseSecurityHeaders();
    app.MapStaticAssets();
    app.MapRunsPage();
    app.MapRunStatus();
    app.MapRunArtifacts();
    app.MapTrendsPage();
    app.MapEnvironmentsPage();
    app.MapLiveUpdates();
    app.MapRunsApi();
    app.MapRunDetailsApi();
    app.MapChecks();
});
