using System.Text.Json;
using Microsoft.Extensions.Options;
using Slipway.Contracts;
using Slipway.Messaging;
using Slipway.Reporter.Comments;
using Slipway.Storage.Jobs;

namespace Slipway.Reporter.Runs;

/// <summary>
/// Follows each run through its pipeline events. A run's start and end each record one
/// comment job (keyed by the event id, so a re-delivered event records nothing new); the job
/// posts to Gerrit outside the Kafka handler, with retries.
/// </summary>
public sealed class PipelineEventHandler(RunLedger ledger, JobQueue jobs, IOptions<ReporterOptions> options) : IIntegrationEventHandler
{
    private static readonly string[] StepAreas = ["build", "test", "smoke-test", "publish", "deploy", "promote"];

    public async Task HandleAsync(EventEnvelope envelope, MessageContext context, CancellationToken ct)
    {
        if (envelope.RunId is not { } runId) return;
        var tx = context.Transaction;
        if (envelope.Type == EventTypes.NameOf<RunStarted>())
        {
            await ledger.StartAsync(tx, runId, envelope.DataAs<RunStarted>(), ct);
            await jobs.EnqueueAsync(tx, GerritCommentJob.For(runId, CommentKind.Started, envelope.Id), ct);
        }
        else if (envelope.Type == EventTypes.NameOf<RunFinished>())
        {
            await ledger.FinishAsync(tx, runId, envelope.DataAs<RunFinished>(), ct);
            await jobs.EnqueueAsync(tx, GerritCommentJob.For(runId, CommentKind.Finished, envelope.Id), ct);
        }
        else if (ParseStepType(envelope.Type) is var (area, phase))
        {
            var d = envelope.Data;
            var data = new StepEventData(
                d.GetProperty("stage").GetString()!, d.GetProperty("step").GetString()!, d.GetProperty("attempt").GetInt32(),
                d.GetProperty("startedAt").GetDateTimeOffset(),
                d.TryGetProperty("finishedAt", out var f) ? f.GetDateTimeOffset() : null,
                d.TryGetProperty("durationMs", out var ms) ? ms.GetInt64() : null,
                d.TryGetProperty("reason", out var r) ? r.GetString() : null,
                d.TryGetProperty("outputTail", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null);
            var state = phase switch { "started" => "running", "succeeded" => "succeeded", _ => "failed" };
            await ledger.StepAsync(tx, runId, area == "smoke-test" ? "smoke" : area, state, data, ct);
            var settings = options.Value;
            if (settings.ProgressComments && phase == "started"
                && await ledger.ClaimProgressAsync(tx, runId, TimeSpan.FromSeconds(settings.ProgressMinIntervalSeconds), ct) is { } number)
                await jobs.EnqueueAsync(tx, GerritCommentJob.For(runId, CommentKind.Progress, envelope.Id,
                    new ProgressStep(number, $"{data.Stage}/{data.Step}")), ct);
        }
    }

    /// <summary>("test", "failed") for <c>slipway.test.failed.v1</c>; null for other types.</summary>
    private static (string Area, string Phase)? ParseStepType(string type)
    {
        var parts = type.Split('.');
        return parts.Length == 4 && parts[0] == "slipway" && StepAreas.Contains(parts[1])
               && parts[2] is "started" or "succeeded" or "failed"
            ? (parts[1], parts[2])
            : null;
    }
}
