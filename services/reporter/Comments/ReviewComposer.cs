using System.Globalization;
using System.Text;
using Slipway.Contracts;
using Slipway.Gerrit.Rest;
using Slipway.Reporter.Runs;

namespace Slipway.Reporter.Comments;

/// <summary>
/// Writes the review a developer sees for a run: short, with the run's status page link (which
/// also makes each comment recognisable, so it is never posted twice), the URI and tags of every image published on
/// success like the PipelineBot comment (and on failure, those published before it), and the failed step with the tail of its output on failure.
/// Everything the uploader controls goes through <see cref="QuotedText"/>: bounded, without control characters, mentions
/// or account templates; output is an indented code block and every value inside Slipway's sentences (pipeline, stage
/// and step names, reasons, notes that quote the config, image references and tags) one <see cref="QuotedText.InlineValue"/>
/// span, so Gerrit's Markdown shows it literally and only Slipway's own text is Markdown.
/// </summary>
public static class ReviewComposer
{
    /// <summary>Lines of a failed step's output quoted in the comment.</summary>
    public const int QuotedLines = 20;

    public static ReviewInput Compose(RunView run, CommentKind kind, ReporterOptions options, ProgressStep? step = null)
    {
        var link = StatusUrl(run.RunId, options);
        var text = new StringBuilder();
        IReadOnlyDictionary<string, int>? labels = null;
        if (kind == CommentKind.Progress)
        {
            var at = step ?? throw new ArgumentException("a progress comment needs its step");
            text.Append(CultureInfo.InvariantCulture, $"Pipeline {Name(run.Pipeline)}: step {at.Number} of {run.TotalSteps} ({StepName(at.Name)}) running.\n\n").Append(link);
        }
        else if (kind == CommentKind.Started)
        {
            if (run.TotalSteps == 0) // not posted by the handler; kept truthful should an old job still ask for it
                text.Append(CultureInfo.InvariantCulture, $"Pipeline {Name(run.Pipeline)} planned no steps");
            else text.Append(CultureInfo.InvariantCulture, $"Pipeline {Name(run.Pipeline)}{StartedMarker}{run.TotalSteps}");
            if (run.FirstStep is { } first) text.Append(CultureInfo.InvariantCulture, $" ({StepName(first)})");
            text.Append(".\n\n");
            AppendNotes(text, run);
            text.Append(link);
        }
        else
        {
            var duration = run.FinishedAt is { } end ? $" in {Duration((long)(end - run.StartedAt).TotalMilliseconds)}" : "";
            switch (run.Outcome)
            {
                case "succeeded":
                    text.Append(CultureInfo.InvariantCulture, $"Pipeline {Name(run.Pipeline)} SUCCESS{duration}.\n");
                    AppendImages(text, run);
                    break;
                case "failed":
                    // A run refused before its first step (hostile content, a refused config) has no failed step to name.
                    text.Append(CultureInfo.InvariantCulture, $"Pipeline {Name(run.Pipeline)} FAILURE{duration}: ")
                        .Append(FailedSteps(run) is { Count: > 1 } several ? $"steps {string.Join(", ", several.Select(StepName))} failed"
                            : run.FailedStep is { } failedStep ? $"step {StepName(failedStep)} failed" : "refused before its first step");
                    text.Append(run.Reason is { } reason ? $": {QuotedText.InlineValue(reason)}\n" : ".\n");
                    var failed = run.Steps.LastOrDefault(s => s.State == "failed");
                    if (failed?.OutputTail is { Length: > 0 } tail)
                    {
                        text.Append(CultureInfo.InvariantCulture, $"\nLast lines of {StepName(failed)}:\n\n");
                        foreach (var line in QuotedText.LastLines(tail, QuotedLines)) text.Append(QuotedText.Indent).Append(line).Append('\n');
                    }
                    // What the run published before it failed (a merge run whose deploy failed) is in the registry all the same.
                    AppendImages(text, run);
                    break;
                default:
                    text.Append(CultureInfo.InvariantCulture, $"Pipeline {Name(run.Pipeline)} {(run.Outcome ?? "ended").ToUpperInvariant()}{duration}");
                    text.Append(run.Reason is { } why ? $": {QuotedText.InlineValue(why)}\n" : ".\n");
                    break;
            }
            if (run.Steps.Count > 0)
            {
                text.Append("\nSteps:\n");
                foreach (var s in run.Steps)
                    text.Append(CultureInfo.InvariantCulture,
                        $"- {StepName(s)} ({s.Kind}): {s.State}{(s.DurationMs is { } ms ? " in " + Duration(ms) : "")}" +
                        // A succeeded step's reason says why it did less than planned (a deploy superseded by a newer run).
                        $"{(s.State == "succeeded" && s.Reason is { } note ? ", " + QuotedText.InlineValue(note) : "")}\n");
            }
            text.Append('\n');
            AppendNotes(text, run);
            text.Append(link);
            if (run.Votes && run.Outcome is "succeeded" or "failed")
                labels = new Dictionary<string, int> { [options.Label] = run.Outcome == "succeeded" ? 1 : -1 };
        }
        return new ReviewInput
        {
            Message = text.ToString(),
            Tag = options.Tag,
            Labels = labels,
            Notify = kind == CommentKind.Finished ? null : "NONE", // only the result is news; it goes to owner and reviewers
        };
    }

    // One image as the PipelineBot comment showed it; several (a multi-service repository) each with its publish step.
    private static void AppendImages(StringBuilder text, RunView run)
    {
        if (run.Images.Count > 1)
        {
            text.Append("\nIMAGES:\n");
            foreach (var i in run.Images)
            {
                text.Append(CultureInfo.InvariantCulture, $"  {StepName(i.Stage, i.Step)}: {QuotedText.InlineValue(i.Image.Uri, 512)}\n");
                if (i.Image.Tags is { Count: > 0 } tags) text.Append("    TAGS: ").Append(Tags(tags)).Append('\n');
            }
            return;
        }
        // Older runs recorded only the last image; a run with one image keeps the familiar form.
        if (run.ImageUri is not { } uri) return;
        text.Append("\nIMAGE:\n  ").Append(QuotedText.InlineValue(uri, 512)).Append('\n');
        if (run.ImageTags is { Length: > 0 } imageTags) text.Append("TAGS:\n  ").Append(Tags(imageTags)).Append('\n');
    }

    // Parallel branches run to their end after a failure, so a run can fail in several steps; each is named.
    private static List<string> FailedSteps(RunView run) => run.Steps.Where(s => s.State == "failed").Select(s => $"{s.Stage}/{s.Step}").ToList();

    // The planner's notes quote the repository's config (stage and variant names, Blubber's errors), so each is one value.
    private static void AppendNotes(StringBuilder text, RunView run)
    {
        foreach (var note in run.Notes) text.Append("Note: ").Append(QuotedText.InlineValue(note)).Append("\n\n");
    }

    // Tags come from the config (PipelineLib's `tags`), each its own span; the list is bounded like one line.
    private static string Tags(IEnumerable<string> tags) =>
        string.Join(", ", tags.Take(MaxTagsShown).Select(t => QuotedText.InlineValue(t, 128))) + (tags.Count() > MaxTagsShown ? ", …" : "");

    private const int MaxTagsShown = 20;

    public static string StatusUrl(string runId, ReporterOptions options) => RunLinks.StatusPage(options.PublicUrl, runId);

    private const string StartedMarker = " started: step 1 of ";

    /// <summary>
    /// Whether a message already on the change is this comment: Gerrit prefixes "Patch Set N:", so
    /// it is recognised by its first line and its run link (unique per run).
    /// </summary>
    public static bool IsSameComment(string? postedMessage, string composed)
    {
        if (postedMessage is null) return false;
        var lines = composed.Split('\n');
        return postedMessage.Contains(lines[0], StringComparison.Ordinal) && postedMessage.Contains(lines[^1], StringComparison.Ordinal);
    }

    public static string Duration(long ms) => ms switch
    {
        < 1000 => $"{ms} ms",
        < 60_000 => (ms / 1000.0).ToString("0.#", CultureInfo.InvariantCulture) + " s",
        _ => $"{ms / 60_000}m {ms % 60_000 / 1000}s",
    };

    /// <summary>A name from the repository's config (a pipeline, a "stage/step"), as one literal, bounded value.</summary>
    private static string Name(string name) => QuotedText.InlineValue(name, 200);

    private static string StepName(string stage, string step) => QuotedText.InlineValue($"{stage}/{step}", 401);

    private static string StepName(string stageSlashStep) => QuotedText.InlineValue(stageSlashStep, 401);

    private static string StepName(StepView s) => StepName(s.Stage, s.Step);
}
