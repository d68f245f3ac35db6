using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Slipway.Contracts;
using Slipway.Runs;

namespace Slipway.Publisher.Triggers;

/// <summary>
/// Trigger steps (PipelineLib's <c>trigger</c>): a job the operator allows for the project is requested — POSTed to the
/// job's webhook when one is configured, then announced as <c>trigger.requested</c>. A job not allowed fails the step
/// with PipelineLib's message. Like Jenkins' <c>build</c> without <c>wait</c>, the step succeeds once the request is
/// accepted (a 2xx answer); a webhook that keeps failing fails the step. A retried attempt may call the webhook again:
/// the body's <c>requestId</c> is the same for every attempt, so a receiver can drop repeats.
/// </summary>
public sealed class TriggerStepPerformer(TriggerOptions options, IHttpClientFactory http,
    ILogger<TriggerStepPerformer> logger) : IStepPerformer
{
    public const string HttpClientName = "trigger-webhooks";

    /// <summary>Most characters of all parameters together once runtime outputs are resolved.</summary>
    public const int MaxParametersChars = 262_144;

    public StepKind Kind => StepKind.Trigger;

    public async Task<StepResult> PerformAsync(StepExecution x, CancellationToken ct)
    {
        var p = x.Step.Trigger ?? throw new InvalidOperationException($"step {x.Step.Name} has no trigger parameters");
        var project = x.Trigger.Project;
        if (!options.Triggers.TryGetValue(p.Job, out var job) || !job.Projects.Contains(project, StringComparer.Ordinal))
        {
            var allowed = options.Triggers.Where(t => t.Value.Projects.Contains(project, StringComparer.Ordinal)).Select(t => t.Key)
                .Order(StringComparer.Ordinal);
            return Failed(x, p.Job, $"Invalid trigger job '{p.Job}'. Allowed trigger jobs: [{string.Join(", ", allowed)}] " +
                "(the operator allows them per project: Pipeline:Triggers:<job>:Projects)");
        }

        // Runtime outputs of earlier steps (PipelineLib's `${publish.imageTag}`), resolved from the run's results.
        Dictionary<string, string> parameters;
        try
        {
            parameters = (p.Parameters ?? new Dictionary<string, string>()).ToDictionary(
                e => e.Key, e => RuntimeOutputResolver.Field(e.Value, $"trigger.parameters.{e.Key}", x.Step.Runtime, x.Run), StringComparer.Ordinal);
        }
        catch (RuntimeOutputException e)
        {
            return Failed(x, p.Job, e.Message);
        }
        // Each value is bounded; so is the whole, which travels in one event.
        if (parameters.Sum(e => e.Key.Length + e.Value.Length) > MaxParametersChars)
            return Failed(x, p.Job, $"`trigger.parameters`: the resolved parameters are longer than {MaxParametersChars} characters in all");
        int? status = null;
        if (job.Url is { } url)
        {
            var body = new
            {
                type = EventTypes.NameOf<TriggerRequested>(), requestId = $"{x.RunId}:{x.Step.Name}", job = p.Job, parameters,
                runId = x.RunId, project, revision = x.Trigger.Revision, @ref = x.Trigger.Ref, pipeline = x.Run.Started.Plan.Pipeline,
            };
            using var client = http.CreateClient(HttpClientName);
            client.Timeout = TimeSpan.FromSeconds(options.WebhookTimeoutSeconds);
            try
            {
                using var response = await client.PostAsJsonAsync(url, body, ContractJson.Options, ct);
                status = (int)response.StatusCode;
                if (!response.IsSuccessStatusCode)
                    return Failed(x, p.Job, $"the webhook of trigger job '{p.Job}' answered HTTP {status}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                // The operator's endpoint may be down for a moment: the job is retried, then the step fails (Failure below).
                logger.LogWarning("run {RunId}: webhook of trigger job {Job} failed: {Error}", x.RunId, p.Job, e.Message);
                throw new InvalidOperationException($"the webhook of trigger job '{p.Job}' did not answer: {e.Message}", e);
            }
        }

        return StepResult.Succeeded(x.Finished(new TriggerRequested
        {
            Job = p.Job, Parameters = parameters, Project = project, Revision = x.Trigger.Revision,
            WebhookStatus = status,
        }));
    }

    public IStepFailedEvent Failure(StepExecution x, string reason) => FailedEvent(x, x.Step.Trigger?.Job ?? "?", reason);

    private StepResult Failed(StepExecution x, string job, string reason) => StepResult.Failed(FailedEvent(x, job, reason), reason);

    private TriggerFailed FailedEvent(StepExecution x, string job, string reason)
    {
        return x.Finished(new TriggerFailed
        {
            Job = job, Reason = reason.Length <= 4096 ? reason : reason[..4095] + "…",
        });
    }
}
