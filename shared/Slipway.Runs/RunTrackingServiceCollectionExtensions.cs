using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Slipway.Contracts;
using Slipway.Hosting;
using Slipway.Messaging;
using Slipway.Storage;
using Slipway.Storage.Jobs;
using Slipway.Storage.Retention;

namespace Slipway.Runs;

public static class RunTrackingServiceCollectionExtensions
{
    /// <summary>
    /// Makes the service a stage service: it follows runs on <c>pipeline.events</c> (through
    /// <see cref="StageEventHandler"/>, in its own consumer or one that delegates to it) and performs its
    /// steps with the registered <see cref="IStepPerformer"/>s as jobs.
    /// </summary>
    public static IServiceCollection AddRunTracking(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMigrationsFrom(typeof(RunStateStore).Assembly);
        services.AddSingleton<RunStateStore>();
        // A finished run's state is needed only while late events of it may still arrive.
        services.AddRetentionRule(s => new RetentionRule("run_state", $"{s.Value}.run_state", "outcome IS NOT NULL AND updated_at < @cutoff"));
        services.AddSingleton<RunEventFactory>();
        services.AddSingleton(TimeProvider.System);
        services.AddScoped<StageEventHandler>();
        services.AddSingleton<IJobHandler, StepJobHandler>();
        services.AddSingleton<IJobHandler, RunSettleJobHandler>();
        services.AddValidatedOptions<RunOptions>(configuration, RunOptions.Section);
        services.AddHostedService<StuckRunSweeper>();
        services.AddJobWorkers(configuration);
        return services;
    }

    /// <summary>The usual consumer of a stage service: <see cref="StageEventHandler"/> on <c>pipeline.events</c>.</summary>
    public static IServiceCollection AddStageEventConsumer(this IServiceCollection services, string consumerName) =>
        services.AddEventConsumer<StageEventHandler>(consumerName, Topics.PipelineEvents);
}
