using Microsoft.Extensions.Options;
using Slipway.Reporter.Comments;

namespace Slipway.Reporter.Runs;

/// <summary>
/// The run data as JSON for tools (`slipway runs`, `slipway run`, the dashboard): <c>GET /api/runs</c> lists
/// runs newest first (filters <c>project</c>, <c>change</c>, <c>branch</c>, <c>state</c>; <c>limit</c>; <c>before</c>
/// continues from the <c>next</c> of a previous page); <c>GET /api/runs/{id}</c> is one run with its steps.
/// Documented in docs/api.md.
/// </summary>
public static class RunsApiEndpoints
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;
    private static readonly string[] States = ["running", "succeeded", "failed", "cancelled"];

    public static void MapRunsApi(this WebApplication app)
    {
        app.MapGet("/api/runs", async (HttpRequest request, RunLedger ledger, IOptions<ReporterOptions> options, CancellationToken ct) =>
        {
            var (filter, error) = Parse(request.Query);
            if (error is not null) return Results.BadRequest(new { error });
            var runs = await ledger.ListAsync(filter!, ct);
            return Results.Json(new RunPage(
                runs.Select(r => RunSummary.Of(r, ReviewComposer.StatusUrl(r.RunId, options.Value))).ToList(),
                runs.Count == filter!.Limit ? runs[^1].StartedAt : null));
        });

        app.MapGet("/api/runs/{id}", async (string id, RunLedger ledger, CancellationToken ct) =>
        {
            if (id.Length > 200) return Results.BadRequest(new { error = "run id too long" });
            return await ledger.GetAsync(id, ct) is { } run ? Results.Json(run) : Results.NotFound(new { error = $"no run {id}" });
        });
    }

    /// <summary><c>GET /api/runs/{id}/details</c>: the run's execution graph, trace id, images, approvals and artifacts (the run page's other sections).</summary>
    public static void MapRunDetailsApi(this WebApplication app) =>
        app.MapGet("/api/runs/{id}/details", async (string id, RunLedger ledger, RunDetails details,
            Slipway.Reporter.Environments.EnvironmentLedger environments, RunArtifactLedger artifacts, CancellationToken ct) =>
        {
            if (id.Length > 200) return Results.BadRequest(new { error = "run id too long" });
            if (await ledger.GetAsync(id, ct) is null) return Results.NotFound(new { error = $"no run {id}" });
            var d = await details.ReadAsync(id, ct);
            return Results.Json(new
            {
                runId = id, graph = d.Graph, traceId = d.TraceId, images = d.Images, approvals = await environments.OfRunAsync(id, ct),
                artifacts = await artifacts.ReadAsync(id, ct),
            });
        });

    /// <summary>The query's filters, or the first thing wrong with them.</summary>
    public static (RunFilter? Filter, string? Error) Parse(IQueryCollection query)
    {
        string? Text(string key) => query[key].ToString() is { Length: > 0 } v ? v : null;
        var project = Text("project");
        var branch = Text("branch");
        if (project is { Length: > 255 } || branch is { Length: > 255 }) return (null, "project and branch are at most 255 characters");
        int? change = null;
        if (Text("change") is { } c)
        {
            if (!int.TryParse(c, out var n) || n < 1) return (null, "change must be a positive number");
            change = n;
        }
        var state = Text("state");
        if (state is not null && !States.Contains(state)) return (null, $"state must be one of {string.Join(", ", States)}");
        var limit = DefaultLimit;
        if (Text("limit") is { } l && (!int.TryParse(l, out limit) || limit is < 1 or > MaxLimit))
            return (null, $"limit must be between 1 and {MaxLimit}");
        DateTimeOffset? before = null;
        if (Text("before") is { } b)
        {
            if (!DateTimeOffset.TryParse(b, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t))
                return (null, "before must be a timestamp (the next of a previous page)");
            before = t;
        }
        return (new RunFilter(project, change, branch, state, before, limit), null);
    }
}

/// <summary>A page of runs; <c>Next</c> is the <c>before</c> of the following page (absent on the last).</summary>
public sealed record RunPage(IReadOnlyList<RunSummary> Runs, DateTimeOffset? Next);

/// <summary>One line of the run list: what ran, for which change, how far it got.</summary>
public sealed record RunSummary(
    string RunId, string Project, int? Change, int? Patchset, string? Branch, string Trigger, string Pipeline,
    DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string State, int StepsStarted, int StepsTotal, string? CurrentStep,
    string? FailedStep, string? Reason, string? ImageUri, string Url)
{
    public static RunSummary Of(RunView run, string url) => new(
        run.RunId, run.Project, run.Change, run.Patchset, run.Branch, run.TriggerKind, run.Pipeline, run.StartedAt, run.FinishedAt,
        run.State, run.StepsStarted, run.StepsTotal, run.CurrentStep, run.FailedStep, run.Reason, run.ImageUri, url);
}
