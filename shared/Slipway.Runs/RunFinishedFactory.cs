using Slipway.Contracts;

namespace Slipway.Runs;

/// <summary>Builds a run's <c>run.finished</c> from what the service knows of it.</summary>
public static class RunFinishedFactory
{
    /// <summary>
    /// The end of a run in which nothing can start any more (<see cref="RunState.Settled"/>): succeeded, or failed naming
    /// every failed step (plan order) with its reason; the first of them is <c>failedStep</c>.
    /// </summary>
    public static RunFinished Settled(RunState run, DateTimeOffset now)
    {
        var failed = run.Progress.Steps.Where(s => run.Steps.GetValueOrDefault(s.Step.Name)?.Outcome == StepOutcome.Failed).ToList();
        if (failed.Count == 0) return Create(run, RunOutcome.Succeeded, now);
        var reasons = string.Join("; ", failed.Select(s => $"{s.Step.Name} failed: {ReasonOf(run.Steps[s.Step.Name])}"));
        if (reasons.Length > MaxReason) reasons = reasons[..(MaxReason - 1)] + "…";
        return Create(run, RunOutcome.Failed, now, failed[0].Stage.Name, failed[0].Step.Name, reasons);
    }

    private const int MaxReason = 4096;

    private static string ReasonOf(StepRecord record) =>
        record.Data is { ValueKind: System.Text.Json.JsonValueKind.Object } data && data.TryGetProperty("reason", out var r)
            && r.ValueKind == System.Text.Json.JsonValueKind.String ? r.GetString()! : "no reason given";

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
        var published = run.Progress.Steps.Where(s => s.Step.Kind == StepKind.Publish)
            .Select(s => run.ResultOf<PublishSucceeded>(s.Step.Name)?.Image is { } i ? new PublishedImage { Stage = s.Stage.Name, Step = s.Step.Name, Image = i } : null)
            .OfType<PublishedImage>().ToList();
        return new RunFinished
        {
            Outcome = outcome, FailedStage = failedStage, FailedStep = failedStep, Reason = reason, Steps = steps,
            Image = published.LastOrDefault()?.Image, // the field older consumers read: the last, as before
            Images = published.Count == 0 ? null : published.Take(RunFinished.MaxImages).ToList(),
            StartedAt = run.Started.StartedAt, FinishedAt = now,
            DurationMs = Math.Max(0, (long)(now - run.Started.StartedAt).TotalMilliseconds),
        };
    }
}
