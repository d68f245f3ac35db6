using System.Diagnostics;

namespace Slipway.Storage.Jobs;

/// <summary>The job workers' spans ("job KIND"), each a child of the span that recorded the job.</summary>
public static class JobTelemetry
{
    public const string Name = "Slipway.Jobs";
    public static readonly ActivitySource Source = new(Name);

    /// <summary>
    /// Starts the span of one job attempt under <paramref name="traceParent"/>. Without a listener an activity is still
    /// created, so the trace id reaches the job's log lines and the events it emits.
    /// </summary>
    public static Activity StartJob(string kind, string? traceParent)
    {
        ActivityContext.TryParse(traceParent, null, out var parent);
        var activity = Source.StartActivity("job " + kind, ActivityKind.Internal, parent);
        if (activity is not null) return activity;
        activity = new Activity("job " + kind);
        if (parent != default) activity.SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags);
        return activity.SetIdFormat(ActivityIdFormat.W3C).Start();
    }
}
