using Slipway.Artifacts;
using Slipway.Contracts;
using Slipway.Runs;
using Slipway.Tester.Copying;
using Slipway.Tester.Smoke;
using Slipway.Tester.Testing;

namespace Slipway.Tester.Runs;

/// <summary>
/// Test steps: the built image's entry point, isolated; the exit code decides. Then the stage's <c>copy</c>, if any,
/// and the <c>copy</c> entries of later stages that name this container: the listed paths out of the stopped container
/// into the run's artifact store, each stage's into its own directory (published only when every copy succeeded).
/// </summary>
public sealed class TestStepPerformer(TestRunner runner, TesterOptions options, RunCredentials credentials,
    ContainerFileCopier copier, RunArtifactStore artifacts, SmokeWarmPairs warm) : IStepPerformer
{
    public StepKind Kind => StepKind.Test;

    public async Task<StepResult> PerformAsync(StepExecution x, CancellationToken ct)
    {
        var p = x.Step.Run ?? new RunParams();
        var image = x.RequireImage(p.ImageFrom);
        await x.EmitAsync(x.Started(new TestStarted { ImageId = image.ImageId, ImageRef = image.ImageRef }));
        // run.credentials: bound only in runs after merge, for allowed projects (checked again here, whatever the plan says).
        var binding = credentials.Bind(x.Trigger, p.Credentials, out var refused);
        if (binding is null) return Refused(x, image, refused!);
        var copying = p.Copy is { Count: > 0 } || p.CopyFor is { Count: > 0 };
        if (copying && !artifacts.Configured) return Refused(x, image, artifacts.NotConfiguredReason);
        IReadOnlyList<RunArtifact> archived = [];
        // Runtime outputs of earlier steps (PipelineLib's `${lint.output}`), resolved from the run's results: data, never interpolated again.
        IReadOnlyList<string>? arguments;
        Dictionary<string, string> env;
        try
        {
            arguments = p.ArgumentsEach is { } each
                ? RuntimeOutputResolver.Expand(each, "run.arguments", x.Run) // PipelineLib's $each/$in over an earlier step's output
                : p.Arguments?.Select((a, i) => RuntimeOutputResolver.Field(a, $"run.arguments[{i}]", x.Step.Runtime, x.Run)).ToList();
            env = (p.Env ?? new Dictionary<string, string>()).ToDictionary(
                e => e.Key, e => RuntimeOutputResolver.Field(e.Value, $"run.env.{e.Key}", x.Step.Runtime, x.Run), StringComparer.Ordinal);
        }
        catch (RuntimeOutputException e)
        {
            return Refused(x, image, e.Message);
        }
        foreach (var (name, value) in binding.Env) env[name] = value;
        var result = await runner.RunAsync(new TestRunRequest
        {
            // Not before the test container runs: made beside its start, the pair slowed it (engine work is serialized).
            Started = () => PrepareSmoke(x),
            Image = image.ImageId, Arguments = arguments, Env = env, Secrets = binding.Secrets, TailLines = p.Tail is > 0 ? p.Tail.Value : Output.DefaultTailLines,
            TimeLimit = p.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : TimeSpan.FromSeconds(options.DefaultTimeLimitSeconds),
            Labels = new Dictionary<string, string> { ["slipway.run"] = x.RunId, ["slipway.step"] = x.Step.Name },
            AfterSuccess = copying ? async (container, tail, token) =>
            {
                var groups = new List<CopyGroup>();
                try
                {
                    if (p.Copy is { Count: > 0 } written)
                    {
                        // Paths holding runtime outputs (this stage's own `output` among them), resolved and checked now.
                        IReadOnlyList<RunCopy> own;
                        try { own = ResolveCopies(x, written, tail); }
                        catch (RuntimeOutputException e) { return e.Message; }
                        groups.Add(new CopyGroup(null, own, artifacts.NewStaging(x.RunId, x.Stage.Name)));
                    }
                    foreach (var later in p.CopyFor ?? [])
                        groups.Add(new CopyGroup(later.Stage, later.Copy, artifacts.NewStaging(x.RunId, later.Stage)));
                    var outcome = await copier.CopyAsync(container, groups, token);
                    if (outcome.Failure is not null) return outcome.Failure;
                    // Only once every copy succeeded; a later stage's files go to its own directory, apart from this stage's.
                    foreach (var g in groups)
                        artifacts.Publish(x.RunId, g.Stage ?? x.Stage.Name, g.Staging, g.Stage is null ? null : x.Stage.Name);
                    archived = outcome.Archived;
                    return null;
                }
                finally
                {
                    foreach (var g in groups) RunArtifactStore.Discard(g.Staging);
                }
            } : null,
        }, ct);
        if (result.Succeeded)
            return StepResult.Succeeded(x.Finished(new TestSucceeded
            {
                ImageId = image.ImageId, ExitCode = result.ExitCode ?? 0, OutputTail = result.OutputTail,
                Artifacts = archived.Count > 0 ? archived : null,
            }));
        warm.Discard(x.RunId); // a failed test step: the smoke step that would take it will not run
        var reason = result.Reason ?? $"tests exited with code {result.ExitCode}";
        return StepResult.Failed(x.Finished(new TestFailed
        {
            ImageId = image.ImageId, ExitCode = result.ExitCode, TimedOut = result.TimedOut, Reason = reason, OutputTail = result.OutputTail,
        }), reason);
    }

    /// <summary>
    /// While the tests run the engine is idle: the run's next smoke step gets its network and forwarder made now
    /// (<see cref="SmokeWarmPairs"/>), so it starts only the service.
    /// </summary>
    private void PrepareSmoke(StepExecution x)
    {
        if (!warm.Enabled) return;
        var smoke = x.Run.Started.Plan.Stages.SelectMany(s => s.Steps)
            .FirstOrDefault(s => s.Kind == StepKind.Smoke && !x.Run.Steps.ContainsKey(s.Name));
        if (smoke is null) return;
        warm.Prepare(x.RunId, smoke.Smoke?.Port ?? SmokeRequest.DefaultContainerPort,
            new Dictionary<string, string> { ["slipway.run"] = x.RunId, ["slipway.step"] = smoke.Name });
    }

    /// <summary>
    /// The step's own <c>copy</c> entries with their runtime outputs resolved from the run's results; this step's own
    /// result (its <c>output</c>) is the tail the step is about to report.
    /// </summary>
    private static IReadOnlyList<RunCopy> ResolveCopies(StepExecution x, IReadOnlyList<RunCopy> copies, string? tail)
    {
        var own = System.Text.Json.JsonSerializer.SerializeToElement(new Dictionary<string, string?> { ["outputTail"] = tail });
        return RunCopyResolver.Resolve(x.Step, copies, x.RunId, x.Run.Started.Plan,
            step => step == x.Step.Name ? own : x.Run.Steps.TryGetValue(step, out var r) ? r.Data : null);
    }

    private static StepResult Refused(StepExecution x, BuildSucceeded image, string reason) =>
        StepResult.Failed(x.Finished(new TestFailed { ImageId = image.ImageId, Reason = reason }), reason);

    public IStepFailedEvent Failure(StepExecution x, string reason) =>
        x.Finished(new TestFailed { ImageId = x.Image(x.Step.Run?.ImageFrom)?.ImageId, Reason = reason });
}
