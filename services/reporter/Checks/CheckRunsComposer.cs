using Slipway.Reporter.Comments;
using Slipway.Reporter.Runs;

namespace Slipway.Reporter.Checks;

/// <summary>
/// Gerrit's Checks tab for one patch set, from the runs the reporter recorded: one check run per planned
/// step of each run, a recheck's run being the next attempt of the same checks. A step that has not
/// started is RUNNABLE (no results, as Gerrit requires); a running one RUNNING; a finished one COMPLETED
/// with a SUCCESS or ERROR result (the failure's reason, the output's last lines, a link to the run page).
/// A run refused before its first step shows as one failed "plan" check. Text from the run is made inert
/// and bounded exactly as in Gerrit comments; the output in a message is a code block (<see cref="QuotedText.Indent"/>),
/// and every link is the run's own status page on this reporter.
/// </summary>
public static class CheckRunsComposer
{
    /// <summary>Gerrit cuts summaries at about 80 characters and shows the rest in a tooltip.</summary>
    public const int MaxSummaryChars = 200;

    /// <summary>Longest pipeline or step name shown (check names and descriptions are plain text in Gerrit's UI).</summary>
    public const int MaxNameChars = 200;

    /// <summary>Output lines quoted into a failed check's message (bounded in bytes as comments are).</summary>
    public const int OutputLines = 40;

    public static ChecksFetchResponse Compose(IReadOnlyList<RunView> runs, ReporterOptions options)
    {
        var pipelines = runs.Select(r => r.Pipeline).Distinct(StringComparer.Ordinal).Count();
        var checks = new List<CheckRun>();
        foreach (var ofPipeline in runs.GroupBy(r => r.Pipeline, StringComparer.Ordinal))
        {
            var attempt = 0;
            foreach (var run in ofPipeline.OrderBy(r => r.StartedAt).ThenBy(r => r.RunId, StringComparer.Ordinal))
            {
                attempt++;
                var prefix = pipelines > 1 ? $"{QuotedText.OneLine(run.Pipeline, MaxNameChars)}: " : "";
                checks.AddRange(ChecksOf(run, attempt, prefix, options));
            }
        }
        return new ChecksFetchResponse("OK", checks);
    }

    private static IEnumerable<CheckRun> ChecksOf(RunView run, int attempt, string prefix, ReporterOptions options)
    {
        var link = ReviewComposer.StatusUrl(run.RunId, options);
        var label = run.Votes ? options.Label : null;
        var planned = run.StepsToShow;
        if (planned.Count == 0 || (run.Outcome is not null and not "succeeded" && run.FailedStep is null && run.Steps.Count == 0))
        {
            // Refused or failed before its first step: the plan itself is what failed.
            yield return new CheckRun
            {
                Change = run.Change, Patchset = run.Patchset, Attempt = attempt, ExternalId = $"{run.RunId}/plan",
                CheckName = $"{prefix}plan", CheckDescription = $"Slipway plans pipeline {QuotedText.OneLine(run.Pipeline, MaxNameChars)} from .pipeline/",
                CheckLink = link, StatusLink = link, LabelName = label,
                Status = run.FinishedAt is null ? "RUNNING" : "COMPLETED",
                StartedTimestamp = run.StartedAt, FinishedTimestamp = run.FinishedAt,
                Results = run.FinishedAt is null ? null :
                [
                    new CheckResult
                    {
                        ExternalId = $"{run.RunId}/plan", Category = "ERROR",
                        Summary = QuotedText.OneLine(run.Reason ?? "the run was refused before its first step", MaxSummaryChars),
                        Links = [new CheckLink(link, "Run status page", true, "external")],
                    },
                ],
            };
            yield break;
        }
        var recorded = run.Steps.ToDictionary(s => $"{s.Stage}/{s.Step}", StringComparer.Ordinal);
        for (var i = 0; i < planned.Count; i++)
        {
            var name = planned[i].Name;
            var shownName = QuotedText.OneLine(name, MaxNameChars);
            var common = new CheckRun
            {
                Change = run.Change, Patchset = run.Patchset, Attempt = attempt, ExternalId = $"{run.RunId}/{name}",
                CheckName = prefix + shownName, CheckDescription = $"{planned[i].Kind} step {i + 1} of {planned.Count} of pipeline {QuotedText.OneLine(run.Pipeline, MaxNameChars)}",
                CheckLink = link, StatusLink = link, LabelName = label, Status = "RUNNABLE",
            };
            if (!recorded.TryGetValue(name, out var step))
            {
                yield return common with
                {
                    StatusDescription = run.FinishedAt is null
                        ? $"step {i + 1} of {planned.Count}: waiting for the steps before it"
                        : $"not run: the run ended ({run.Outcome}) before this step",
                    ScheduledTimestamp = run.StartedAt,
                };
                continue;
            }
            var tag = new CheckTag(step.Kind.ToUpperInvariant(), "gray");
            yield return step.State switch
            {
                "running" => common with
                {
                    Status = "RUNNING", StartedTimestamp = step.StartedAt,
                    StatusDescription = $"step {i + 1} of {planned.Count}, attempt {step.Attempt}, running",
                },
                "succeeded" => common with
                {
                    Status = "COMPLETED", StartedTimestamp = step.StartedAt, FinishedTimestamp = step.FinishedAt,
                    Results =
                    [
                        new CheckResult
                        {
                            ExternalId = $"{run.RunId}/{name}", Category = "SUCCESS", Tags = [tag],
                            Summary = step.DurationMs is { } ms ? $"passed in {ReviewComposer.Duration(ms)}" : "passed",
                            Links = [new CheckLink(link, "Run status page", false, "external")],
                        },
                    ],
                },
                _ => common with
                {
                    Status = "COMPLETED", StartedTimestamp = step.StartedAt, FinishedTimestamp = step.FinishedAt,
                    Results =
                    [
                        new CheckResult
                        {
                            ExternalId = $"{run.RunId}/{name}", Category = "ERROR", Tags = [tag],
                            Summary = QuotedText.OneLine(step.Reason ?? $"{step.Kind} step failed", MaxSummaryChars),
                            Message = step.OutputTail is { Length: > 0 } tail ? string.Join('\n', QuotedText.LastLines(tail, OutputLines).Select(l => QuotedText.Indent + l)) : null,
                            Links = [new CheckLink(link, "Run status page with the step's output", true, "external")],
                        },
                    ],
                },
            };
        }
    }
}
