namespace Slipway.Contracts;

/// <summary>
/// The one table of step events: which step kind and phase each event record reports
/// (<see cref="SmokeTestFailed"/> is (Smoke, Failed)). Every consumer that follows steps reads it from here.
/// </summary>
public static class StepEventKinds
{
    /// <summary>Where a step event stands in its attempt.</summary>
    public enum Phase { Started, Succeeded, Failed }

    private static readonly Dictionary<Type, (StepKind Kind, Phase Phase)> Table = new()
    {
        [typeof(BuildStarted)] = (StepKind.Build, Phase.Started),
        [typeof(BuildSucceeded)] = (StepKind.Build, Phase.Succeeded),
        [typeof(BuildFailed)] = (StepKind.Build, Phase.Failed),
        [typeof(TestStarted)] = (StepKind.Test, Phase.Started),
        [typeof(TestSucceeded)] = (StepKind.Test, Phase.Succeeded),
        [typeof(TestFailed)] = (StepKind.Test, Phase.Failed),
        [typeof(SmokeTestStarted)] = (StepKind.Smoke, Phase.Started),
        [typeof(SmokeTestSucceeded)] = (StepKind.Smoke, Phase.Succeeded),
        [typeof(SmokeTestFailed)] = (StepKind.Smoke, Phase.Failed),
        [typeof(PublishStarted)] = (StepKind.Publish, Phase.Started),
        [typeof(PublishSucceeded)] = (StepKind.Publish, Phase.Succeeded),
        [typeof(PublishFailed)] = (StepKind.Publish, Phase.Failed),
        [typeof(DeployStarted)] = (StepKind.Deploy, Phase.Started),
        [typeof(DeploySucceeded)] = (StepKind.Deploy, Phase.Succeeded),
        [typeof(DeployFailed)] = (StepKind.Deploy, Phase.Failed),
        [typeof(PromoteStarted)] = (StepKind.Promote, Phase.Started),
        [typeof(PromoteSucceeded)] = (StepKind.Promote, Phase.Succeeded),
        [typeof(PromoteFailed)] = (StepKind.Promote, Phase.Failed),
        [typeof(TriggerRequested)] = (StepKind.Trigger, Phase.Succeeded),
        [typeof(TriggerFailed)] = (StepKind.Trigger, Phase.Failed),
    };

    /// <summary>Every step event record with its kind and phase.</summary>
    public static IReadOnlyDictionary<Type, (StepKind Kind, Phase Phase)> All => Table;

    public static (StepKind Kind, Phase Phase) Of(IStepEvent e) =>
        Table.TryGetValue(e.GetType(), out var entry) ? entry : throw new ArgumentException($"{e.GetType().Name} is not in the step event table");

    /// <summary>The kind and phase of a step event's type name (<c>slipway.smoke-test.failed.v1</c>); null for other types.</summary>
    public static (StepKind Kind, Phase Phase)? Parse(string type) =>
        EventTypes.TypeOf(type) is { } t && Table.TryGetValue(t, out var entry) ? entry : null;

    /// <summary>The event types (names) of a step kind, e.g. Smoke: <c>slipway.smoke-test.{started,succeeded,failed}.v1</c>.</summary>
    public static IEnumerable<string> NamesOf(StepKind kind) =>
        Table.Where(e => e.Value.Kind == kind).Select(e => EventTypes.NameOf(e.Key));
}
