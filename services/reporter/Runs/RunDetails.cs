using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Npgsql;
using Slipway.Contracts;
using Slipway.Storage;

namespace Slipway.Reporter.Runs;

/// <summary>
/// What the run page shows beyond the steps: the execution graph (stages and the stages each waits for), the run's
/// trace id, and the images its build and publish steps made. Recorded from the events, read per run.
/// </summary>
public sealed class RunDetails(NpgsqlDataSource dataSource, SchemaName schema)
{
    private readonly string _s = schema.Value;

    /// <summary>From <c>run.started</c>: the graph, and the trace the run's events carry (W3C traceparent).</summary>
    public Task StartedAsync(NpgsqlTransaction tx, string runId, RunStarted started, string? traceParent, CancellationToken ct)
    {
        var graph = JsonSerializer.Serialize(started.Plan.Graph.Select(n => new StageNode(n.Stage, n.DependsOn)).ToList(), ContractJson.Options);
        string? traceId = traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context) ? context.TraceId.ToString() : null;
        return tx.Connection!.ExecuteAsync(new CommandDefinition(
            $"UPDATE {_s}.runs SET graph = COALESCE(graph, @graph), trace_id = COALESCE(trace_id, @traceId) WHERE run_id = @runId",
            new { runId, graph, traceId }, tx, cancellationToken: ct));
    }

    /// <summary>An image a step made: built (local reference) or published (registry URI, tags, digest).</summary>
    public Task ImageAsync(NpgsqlTransaction tx, string runId, object stepEvent, CancellationToken ct)
    {
        var row = stepEvent switch
        {
            BuildSucceeded b => new { b.Stage, b.Step, kind = "built", imageRef = (string?)b.ImageRef, imageId = (string?)b.ImageId,
                uri = (string?)null, tags = (string[]?)null, digest = (string?)null, at = b.FinishedAt },
            PublishSucceeded p => new { p.Stage, p.Step, kind = "published", imageRef = (string?)null, imageId = (string?)p.ImageId,
                uri = (string?)p.Image.Uri, tags = (string[]?)p.Image.Tags.ToArray(), digest = (string?)p.Image.Digest, at = p.FinishedAt },
            _ => null,
        };
        if (row is null) return Task.CompletedTask;
        return tx.Connection!.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO {_s}.run_images (run_id, stage, step, kind, image_ref, image_id, uri, tags, digest, at)
            VALUES (@runId, @Stage, @Step, @kind, @imageRef, @imageId, @uri, @tags, @digest, @at)
            ON CONFLICT (run_id, stage, step) DO UPDATE SET kind = EXCLUDED.kind, image_ref = EXCLUDED.image_ref, image_id = EXCLUDED.image_id,
                uri = EXCLUDED.uri, tags = EXCLUDED.tags, digest = EXCLUDED.digest, at = EXCLUDED.at
            """, new { runId, row.Stage, row.Step, row.kind, row.imageRef, row.imageId, row.uri, row.tags, row.digest, row.at },
            tx, cancellationToken: ct));
    }

    public async Task<RunDetailsView> ReadAsync(string runId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var (graph, traceId) = await conn.QuerySingleOrDefaultAsync<(string?, string?)>(new CommandDefinition(
            $"SELECT graph, trace_id FROM {_s}.runs WHERE run_id = @runId", new { runId }, cancellationToken: ct));
        var images = (await conn.QueryAsync<ImageRow>(new CommandDefinition($"""
            SELECT stage, step, kind, image_ref AS ImageRef, image_id AS ImageId, uri, tags, digest FROM {_s}.run_images
             WHERE run_id = @runId ORDER BY at
            """, new { runId }, cancellationToken: ct)))
            .Select(i => new RunImageView($"{i.Stage}/{i.Step}", i.Kind, i.ImageRef, i.ImageId, i.Uri, i.Tags ?? [], i.Digest)).ToList();
        var stages = graph is null ? [] : JsonSerializer.Deserialize<List<StageNode>>(graph, ContractJson.Options) ?? [];
        return new RunDetailsView(stages, traceId, images);
    }

    private sealed class ImageRow
    {
        public string Stage { get; set; } = "";
        public string Step { get; set; } = "";
        public string Kind { get; set; } = "";
        public string? ImageRef { get; set; }
        public string? ImageId { get; set; }
        public string? Uri { get; set; }
        public string[]? Tags { get; set; }
        public string? Digest { get; set; }
    }
}

/// <summary>A stage of the execution graph and the stages that must succeed before it starts.</summary>
public sealed record StageNode(string Stage, IReadOnlyList<string> DependsOn);

/// <summary>An image a step made: <c>built</c> (a local reference) or <c>published</c> (URI, tags, digest in the registry).</summary>
public sealed record RunImageView(string Step, string Kind, string? ImageRef, string? ImageId, string? Uri, IReadOnlyList<string> Tags, string? Digest);

public sealed record RunDetailsView(IReadOnlyList<StageNode> Graph, string? TraceId, IReadOnlyList<RunImageView> Images);
