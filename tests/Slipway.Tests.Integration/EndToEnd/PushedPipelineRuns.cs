using Slipway.Contracts;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>The run of one pipeline of a pushed patch set (a config.yaml with several pipelines makes one run each).</summary>
internal static class PushedPipelineRuns
{
    public static string RunIdOf(PipelineEnvironment env, PushedPatchSet pushed, string pipeline) =>
        env.PipelineEvents.Events.First(e => e.Type == EventTypes.NameOf<RunStarted>() && IsRunOf(e, pushed, pipeline)).RunId!;

    public static bool IsRunOf(EventEnvelope e, PushedPatchSet pushed, string pipeline)
    {
        var started = e.DataAs<RunStarted>();
        return started.Trigger.Revision == pushed.Revision && started.Plan.Pipeline == pipeline;
    }

    /// <summary>Waits (bounded by <paramref name="timeout"/>) for the pipeline's run to start and to finish.</summary>
    public static async Task<RunFinished> FinishedAsync(PipelineEnvironment env, PushedPatchSet pushed, string pipeline, TimeSpan timeout)
    {
        var started = await env.PipelineEvents.WaitForAsync($"the {pipeline} run", e => e.Type == EventTypes.NameOf<RunStarted>()
            && IsRunOf(e, pushed, pipeline), timeout);
        var finished = await env.PipelineEvents.WaitForAsync($"the end of the {pipeline} run",
            e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<RunFinished>(), timeout);
        return finished.DataAs<RunFinished>();
    }
}
