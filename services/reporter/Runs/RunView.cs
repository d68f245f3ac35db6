namespace Slipway.Reporter.Runs;

/// <summary>A run as the reporter knows it (rows of <c>runs</c> and <c>steps</c>).</summary>
public sealed record RunView(
    string RunId, string Project, int? Change, int? Patchset, string Revision, string Ref, string TriggerKind,
    string Pipeline, int TotalSteps, string? FirstStep, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt,
    string? Outcome, string? FailedStep, string? Reason, string? ImageUri, string[]? ImageTags, string? ImageDigest)
{
    public IReadOnlyList<StepView> Steps { get; init; } = [];

    /// <summary>Every image the run published (run.finished's <c>images</c>), in plan order; empty for older runs and runs that published none.</summary>
    public IReadOnlyList<Slipway.Contracts.PublishedImage> Images { get; init; } = [];

    /// <summary>What the planner left out and why (e.g. a non-release branch builds and tests only).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The branch the run is for (the change's target branch, or the pushed branch).</summary>
    public string? Branch { get; init; }

    /// <summary>Every step of the plan in order, started or not (empty for runs recorded before plans were kept).</summary>
    public IReadOnlyList<PlannedStepView> PlannedSteps { get; init; } = [];

    /// <summary>running, or the outcome (succeeded, failed, cancelled).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string State => Outcome ?? "running";

    /// <summary>How many steps have started ("step 3 of 7").</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int StepsStarted => Steps.Count;

    [System.Text.Json.Serialization.JsonIgnore]
    public int StepsTotal => Math.Max(TotalSteps, Steps.Count);

    /// <summary>The step running now, as <c>stage/step</c>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? CurrentStep => Steps.LastOrDefault(s => s.State == "running") is { } current ? $"{current.Stage}/{current.Step}" : null;

    /// <summary>The plan's steps, or for runs recorded before plans were kept, the steps that started.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<PlannedStepView> StepsToShow => PlannedSteps.Count > 0
        ? PlannedSteps
        : Steps.Select(s => new PlannedStepView($"{s.Stage}/{s.Step}", s.Kind)).ToList();
    /// <summary>Set while one of the run's comments waits for Gerrit (down or answering 5xx).</summary>
    public GerritWaitView? GerritWait { get; init; }

    /// <summary>Runs of a patchset (or a recheck of one) vote; merge and branch runs only comment.</summary>
    public bool Votes => TriggerKind is "patchset" or "recheck" && Change is not null;
}

public sealed record StepView(string Stage, string Step, string Kind, string State, int Attempt, DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt, long? DurationMs, string? Reason, string? OutputTail);

/// <summary>A step of the run's plan: <c>stage/step</c> and its kind (build, test, ...).</summary>
public sealed record PlannedStepView(string Name, string Kind);
/// <summary>A comment waiting for Gerrit: since when, after how many tries, and Gerrit's last answer.</summary>
public sealed record GerritWaitView(DateTimeOffset Since, int Tries, string? LastError);
