using Slipway.Contracts;

namespace Slipway.Runs;

/// <summary>Builds a run's <c>run.finished</c> from what the service knows of it.</summary>
public static class RunFinishedFactory
{
    public static RunFinished Create(RunState run, RunOutcome outcome, DateTimeOffset now, string? failedStage = null,
        string? failedStep = null, string? reason = null)
    {
        var steps = run.Progress.Steps.Select(s =>
        {
            var record = run.Steps.GetValueOrDefault(s.Step.Name);
            return new StepSummary
            {
                Stage = s.Stage.Name, Name = s.Step.Name, Kind = s.Step.Kind,
                Outcome = record?.Outcome ?? (outcome == RunOutcome.Cancelled ? StepOutcome.Cancelled : StepOutcome.Skipped),
                DurationMs = record?.DurationMs, Attempts = record?.Attempt,
            };
        }).ToList();
        var image = run.Progress.Steps.Where(s => s.Step.Kind == StepKind.Publish)
            .Select(s => run.ResultOf<PublishSucceeded>(s.Step.Name)?.Image).LastOrDefault(i => i is not null);
        return new RunFinished
        {
            Outcome = outcome, FailedStage = failedStage, FailedStep = failedStep, Reason = reason, Steps = steps, Image = image,
            StartedAt = run.Started.StartedAt, FinishedAt = now,
            DurationMs = Math.Max(0, (long)(now - run.Started.StartedAt).TotalMilliseconds),
        };
    }
}
