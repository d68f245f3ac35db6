using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Slipway.Builder.Git;
using Slipway.Contracts;
using Slipway.Runs;
using Slipway.Messaging;
using Slipway.Pipeline.Planning;
using Slipway.Storage.Jobs;

namespace Slipway.Builder.Runs;

/// <summary>
/// Creates a run: fetches the triggering revision, reads its <c>.pipeline/</c>, and emits <c>run.started</c>
/// with the plan (one run per pipeline of a config.yaml). A repository without a pipeline gets no run;
/// an invalid pipeline gets a run that fails at once with the configuration error, so the developer sees it in Gerrit.
/// </summary>
public sealed class PlanRunJob(Workspaces workspaces, Outbox outbox, RunEventFactory events, PlanningOptions planning, TimeProvider clock,
    RunStartSeconds startSeconds, ChangeRuns changeRuns, IServiceScopeFactory scopes, ILogger<PlanRunJob> logger)
    : IJobHandler
{
    public const string JobKind = "plan";

    public sealed record Payload(string RunId, RunTrigger Trigger);

    /// <summary>
    /// Gerrit sends a merge as two events, change-merged and ref-updated, on different partitions, so either may
    /// arrive first. A branch update waits this long for its change-merged, which names the change to report on.
    /// </summary>
    public static readonly TimeSpan BranchUpdateGrace = TimeSpan.FromSeconds(5);

    public static NewJob For(string runId, RunTrigger trigger, DateTimeOffset? notBefore = null) =>
        new(JobKind, $"plan:{runId}", JsonSerializer.Serialize(new Payload(runId, trigger), ContractJson.Options), runId, MaxAttempts: 5,
            NotBefore: notBefore);

    public string Kind => JobKind;

    public async Task ExecuteAsync(LeasedJob job, JobCompletion completion, CancellationToken ct)
    {
        var (runId, trigger) = JsonSerializer.Deserialize<Payload>(job.Payload, ContractJson.Options)!;
        DateTimeOffset now;
        using (BuilderTelemetry.Part("claim")) now = await startSeconds.ClaimAsync(trigger.Project, clock.GetUtcNow(), ct);
        string src;
        try
        {
            using (BuilderTelemetry.Part("checkout")) src = await workspaces.EnsureAsync(runId, trigger, ct);
            // Gerrit names an annotated tag by its own object: the run, its images and its `.git` take the tagged commit.
            if (trigger.TagName() is not null) trigger = trigger with { Revision = await workspaces.CommitOfAsync(trigger, ct) };
        }
        catch (RevisionRefusedException e)
        {
            // Hostile or oversized content is refused the same way every time: fail the run now, naming the path.
            workspaces.Remove(runId);
            await completion.CommitAsync(tx => EmitConfigurationFailureAsync(tx, runId, trigger, now, e.Message, ct), ct: ct);
            return;
        }
        PlanningResult result;
        var planTimer = BuilderTelemetry.Part("plan");
        try
        {
            var context = new PlanningContext(trigger.Kind, trigger.Project, trigger.Branch, trigger.Revision, now, trigger.TagName())
            {
                Remote = workspaces.RemoteOf(trigger.Project),
                RunId = runId,
            };
            result = RunPlanner.Plan(path => Workspaces.ReadFile(src, path), context, planning);
        }
        catch (PipelineConfigException e) // the user's files refused (e.g. a symlinked or oversized Blubber file); anything else is retried
        {
            result = PlanningResult.Refuse(e, RunPlanner.ConfigPath);
        }
        finally
        {
            planTimer.Dispose();
        }

        if (!result.HasPipeline)
        {
            logger.LogInformation("run {RunId}: {Project} has no .pipeline/blubber.yaml or config.yaml at {Revision}; nothing to do",
                runId, trigger.Project, trigger.Revision);
            workspaces.Remove(runId);
            return;
        }

        if (result.Error is null && result.Plans.Any(p => p.Submodules == true))
            using (BuilderTelemetry.Part("submodules")) result = await FetchSubmodulesAsync(runId, trigger, result, ct);

        using var committing = BuilderTelemetry.Part("commit");
        await completion.CommitAsync(async tx =>
        {
            if (result.Error is { } error)
            {
                await EmitConfigurationFailureAsync(tx, runId, trigger, now, error, ct);
                return;
            }
            // One run per pipeline, planned or refused, in declaration order, with the ids the planner linked to
            // (`${setup.logURL}`). A refused pipeline fails alone; the others run.
            for (var i = 0; i < result.Order.Count; i++)
            {
                var name = result.Order[i];
                var id = PipelineRunId.Of(runId, result.Order, i);
                if (result.Refused.FirstOrDefault(r => r.Pipeline == name) is { } refusal)
                {
                    await EmitConfigurationFailureAsync(tx, id, trigger, now, refusal.Message, ct, name);
                    continue;
                }
                var plan = result.Plans.First(p => p.Pipeline == name);
                var started = new RunStarted { Trigger = trigger, Plan = plan, StartedAt = now };
                await outbox.AddPipelineEventAsync(tx, events.Create(id, started), ct);
                await StartBuildsNowAsync(tx, id, started, ct);
                if (plan.Stages.All(s => s.Steps.Count == 0))
                {
                    // Nothing to do (e.g. stages that only export values): no step will ever finish the run, so it ends now.
                    var done = RunFinishedFactory.Create(new RunState(id, started, new Dictionary<string, StepRecord>(), new Dictionary<string, string>(), null),
                        RunOutcome.Succeeded, now);
                    await outbox.AddPipelineEventAsync(tx, events.Create(id, done), ct);
                }
                logger.LogInformation("run {RunId}: {Pipeline} planned for {Project} {Ref}: {Steps}", id, plan.Pipeline, trigger.Project,
                    trigger.Ref, string.Join(" → ", plan.Stages.SelectMany(s => s.Steps).Select(s => s.Name)));
            }
            if (result.Order.Count == 0)
                logger.LogInformation("run {RunId}: no pipeline of {Project} runs on this trigger ({Skipped})", runId, trigger.Project,
                    string.Join("; ", result.Skipped.Select(s => $"{s.Pipeline}: {s.Reason}")));
        }, ct: ct);
    }

    /// <summary>
    /// PipelineLib's <c>fetch.submodules</c>: the workspace of each pipeline that wants them gets the revision's submodules
    /// now, so a submodule the builder may not fetch fails that pipeline at once, naming it; the other pipelines run.
    /// A fetch that fails (the server away) is retried with the job.
    /// </summary>
    private async Task<PlanningResult> FetchSubmodulesAsync(string runId, RunTrigger trigger, PlanningResult result, CancellationToken ct)
    {
        var refused = new List<PlanRefusal>();
        for (var i = 0; i < result.Order.Count; i++)
        {
            if (result.Plans.FirstOrDefault(p => p.Pipeline == result.Order[i]) is not { Submodules: true } plan) continue;
            try
            {
                await workspaces.EnsureAsync(PipelineRunId.Of(runId, result.Order, i), trigger, ct, submodules: true);
            }
            catch (RevisionRefusedException e)
            {
                refused.Add(new PlanRefusal(plan.Pipeline, $"fetch.submodules: {e.Message}", ".gitmodules", 0));
            }
        }
        if (refused.Count == 0) return result;
        return result with
        {
            Plans = result.Plans.Where(p => refused.All(r => r.Pipeline != p.Pipeline)).ToList(),
            Refused = [.. result.Refused, .. refused],
        };
    }

    /// <summary>
    /// The run's first builds are this service's own steps: scheduled with the plan, not after <c>run.started</c> came back
    /// through Kafka (≈ 15 ms and a consumer transaction saved). A run of a change already stopped (abandoned, superseded)
    /// is left to the consumer of <c>run.started</c>, which ends it.
    /// </summary>
    private async Task StartBuildsNowAsync(NpgsqlTransaction tx, string runId, RunStarted started, CancellationToken ct)
    {
        if (started.Trigger.Change is { } change
            && await changeRuns.StopReasonAsync(tx, started.Trigger.Project, change, started.Trigger.Patchset, ct) is not null)
            return;
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<StageEventHandler>().StartPlannedRunAsync(tx, runId, started, ct);
    }

    public Task OnGaveUpAsync(LeasedJob job, string reason, NpgsqlTransaction tx, CancellationToken ct)
    {
        var (runId, trigger) = JsonSerializer.Deserialize<Payload>(job.Payload, ContractJson.Options)!;
        return EmitConfigurationFailureAsync(tx, runId, trigger, clock.GetUtcNow(), $"could not fetch {trigger.Ref} at {trigger.Revision}: {reason}", ct);
    }

    private async Task EmitConfigurationFailureAsync(NpgsqlTransaction tx, string runId, RunTrigger trigger, DateTimeOffset now, string error,
        CancellationToken ct, string pipeline = "default")
    {
        var plan = new RunPlan
        {
            Pipeline = pipeline, ConfigPath = ".pipeline",
            Stages = [new PlanStage { Name = "configure", Steps = [] }], Graph = [new PlanGraphNode { Stage = "configure", DependsOn = [] }],
        };
        var started = new RunStarted { Trigger = trigger, Plan = plan, StartedAt = now };
        await outbox.AddPipelineEventAsync(tx, events.Create(runId, started), ct);
        var finished = RunFinishedFactory.Create(new RunState(runId, started, new Dictionary<string, StepRecord>(), new Dictionary<string, string>(), null),
            RunOutcome.Failed, now, "configure", null, error);
        await outbox.AddPipelineEventAsync(tx, events.Create(runId, finished), ct);
        logger.LogWarning("run {RunId}: pipeline configuration refused: {Error}", runId, error);
    }
}
