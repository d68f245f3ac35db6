using System.Text.Json;
using Slipway.Contracts;
using Slipway.Runs;

namespace Slipway.Tests.Pipeline;

/// <summary>The step-event header (stage, step, attempt, times) is written by the attempt, once, and checked before an event leaves.</summary>
public sealed class StepEventHeaderTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static StepExecution Attempt(List<IPipelineEvent> emitted)
    {
        var step = new PlanStep { Name = "test-run", Kind = StepKind.Test };
        var stage = new PlanStage { Name = "test", Steps = [step] };
        var started = new RunStarted
        {
            Trigger = new RunTrigger { Kind = TriggerKind.Patchset, Project = "p", Ref = "refs/changes/34/1234/2", Revision = new string('a', 40) },
            Plan = new RunPlan { Pipeline = "p", Stages = [stage], Graph = [new PlanGraphNode { Stage = "test", DependsOn = [] }] },
            StartedAt = Start,
        };
        var run = new RunState("run-1", started, new Dictionary<string, StepRecord>(), new Dictionary<string, string>(), null);
        return new StepExecution(run, stage, step, 2, Start, new FixedClock(Start.AddMilliseconds(1500)), (data, _) =>
        {
            emitted.Add(data);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void Finished_writes_the_whole_header_and_the_json_keeps_its_fields_first()
    {
        var x = Attempt([]);
        var failed = x.Finished(new TestFailed { ImageId = null, Reason = "exit 1" });

        Assert.Equal(("test", "test-run", 2, Start, Start.AddMilliseconds(1500), 1500L),
            (failed.Stage, failed.Step, failed.Attempt, failed.StartedAt, failed.FinishedAt, failed.DurationMs));
        var names = JsonSerializer.SerializeToElement(failed, ContractJson.Options).EnumerateObject().Select(p => p.Name).Take(6);
        Assert.Equal(["stage", "step", "attempt", "startedAt", "finishedAt", "durationMs"], names);
    }

    [Fact]
    public void A_later_start_such_as_a_rollout_stage_is_kept()
    {
        var x = Attempt([]);
        var later = Start.AddMilliseconds(500);
        var succeeded = x.Finished(new TestSucceeded { ImageId = "sha256:" + new string('b', 64), ExitCode = 0 }, later);
        Assert.Equal((later, 1000L), (succeeded.StartedAt, succeeded.DurationMs));
    }

    [Fact]
    public async Task An_event_without_the_header_is_refused_before_it_is_emitted()
    {
        var emitted = new List<IPipelineEvent>();
        var x = Attempt(emitted);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => x.EmitAsync(new TestStarted { ImageId = "sha256:" + new string('b', 64), ImageRef = "r" }));
        Assert.Contains("lacks the header of test-run attempt 2", e.Message);
        Assert.Empty(emitted);

        await x.EmitAsync(x.Started(new TestStarted { ImageId = "sha256:" + new string('b', 64), ImageRef = "r" }));
        Assert.Equal(("test", "test-run", 2, Start), emitted.Cast<TestStarted>().Select(s => (s.Stage, s.Step, s.Attempt, s.StartedAt)).Single());
    }
}
