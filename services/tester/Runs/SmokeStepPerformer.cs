using Slipway.Contracts;
using Slipway.Runs;
using Slipway.Tester.Smoke;

namespace Slipway.Tester.Runs;

/// <summary>Smoke steps: the production image started in isolation and checked from outside (service-checker contract).</summary>
public sealed class SmokeStepPerformer(SmokeTester smoke, SmokeWarmPairs warm) : IStepPerformer
{
    public StepKind Kind => StepKind.Smoke;

    private static readonly Dictionary<string, string> SpareLabels = new() { ["slipway.step"] = "smoke-spare" };

    public async Task<StepResult> PerformAsync(StepExecution x, CancellationToken ct)
    {
        var p = x.Step.Smoke ?? new SmokeParams();
        var image = x.RequireImage(p.ImageFrom);
        await x.EmitAsync(x.Started(new SmokeTestStarted { ImageId = image.ImageId, ImageRef = image.ImageRef }));
        var request = new SmokeRequest
        {
            Image = image.ImageId,
            Labels = new Dictionary<string, string> { ["slipway.run"] = x.RunId, ["slipway.step"] = x.Step.Name },
        };
        if (p.Port is { } port) request = request with { ContainerPort = port };
        if (p.SpecPath is { } spec) request = request with { SpecPath = spec };
        if (p.HealthPath is { } health) request = request with { ReadinessPath = health, LivenessPath = health };
        if (p.TimeoutMs is { } ms) request = request with { StartTimeout = TimeSpan.FromMilliseconds(ms) };
        // Made while the run's test step ran (or null: the step makes its own); from here the step owns and removes it.
        SmokeWarmPairs.Pair? pair;
        using (TesterTelemetry.Part("warm-wait")) pair = await warm.TakeAsync(x.RunId, request.ContainerPort, ct);
        var result = await smoke.RunAsync(request, ct, pair);
        // The next run on this port finds its pair ready (made once this step's clean-up pause is over).
        warm.Replenish(request.ContainerPort, SpareLabels);
        // The event keeps at most 100 checks: the failed ones first, so the difference is never cut off.
        var checks = result.Checks.OrderBy(c => c.Passed).Take(100).ToList();
        if (result.Succeeded)
            return StepResult.Succeeded(x.Finished(new SmokeTestSucceeded
            {
                ImageId = image.ImageId, ChecksPassed = result.ChecksPassed, ChecksFailed = result.ChecksFailed, Checks = checks,
            }));
        var reason = result.Reason ?? "the smoke test failed";
        return StepResult.Failed(x.Finished(new SmokeTestFailed
        {
            ImageId = image.ImageId, ChecksPassed = result.ChecksPassed, ChecksFailed = result.ChecksFailed, Checks = checks, Reason = reason,
            OutputTail = result.OutputTail,
        }), reason);
    }

    public IStepFailedEvent Failure(StepExecution x, string reason) =>
        x.Finished(new SmokeTestFailed { ImageId = x.Image(x.Step.Smoke?.ImageFrom)?.ImageId, ChecksPassed = 0, ChecksFailed = 0, Reason = reason });
}
