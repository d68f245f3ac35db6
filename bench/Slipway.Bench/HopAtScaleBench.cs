using System.Diagnostics;
using Npgsql;
using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;

namespace Slipway.Bench;

/// <summary>
/// Cost as work grows (`./slipway bench --scale`): hop latency with 100,000 finished runs in every service's tables
/// over the same with empty tables, in one run of the six services:
///   1. a warm-up change, then R changes one at a time on empty tables;
///   2. every service's tables filled by SQL (generate_series) with 100,000 finished runs' worth of rows, analyzed;
///   3. R more changes one at a time.
/// Per change: Gerrit event → first <c>build.started</c> (as <see cref="PipelineBench"/>), and each hop inside the run,
/// a step's <c>.succeeded</c> → the next step's <c>.started</c> (event → the next step's job started). Fills the
/// "hop-at-scale" row of <see cref="BenchTable"/>.
/// </summary>
public static class HopAtScaleBench
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan FillTimeout = TimeSpan.FromMinutes(20);
    public const int FinishedRuns = 100_000;

    public static async Task RunAsync(IReadOnlyDictionary<string, string> infra, BenchTable table, int repetitions)
    {
        var baseImage = infra["Slipway__BaseImage"];
        await using var stack = await PipelineStack.StartAsync(infra, new Dictionary<string, string>
        {
            ["Builder__MaxConcurrentBuilds"] = "2", ["Jobs__Executors"] = "4",
            ["Deployer__Environments__staging__Replicas"] = "1", ["Deployer__Environments__production__Replicas"] = "1",
        });
        var tag = stack.Prefix.TrimEnd('.');
        await Measure(stack, baseImage, $"bench/{tag}-warmup", 1); // caches warm, every consumer joined

        var (emptyToBuild, emptyHops) = await Measure(stack, baseImage, $"bench/{tag}-empty", repetitions);
        var fill = Stopwatch.StartNew();
        var rows = await FillAsync(infra["Postgres__ConnectionString"], tag);
        Console.WriteLine($"filled every service's tables with {FinishedRuns:N0} finished runs' worth of rows ({rows:N0} rows) in {fill.Elapsed.TotalSeconds:F0} s");
        await ExplainPrefixQueryAsync(infra["Postgres__ConnectionString"], $"{tag}_builder");
        var scansBefore = await SequentialReadsAsync(infra["Postgres__ConnectionString"], tag);
        var (fullToBuild, fullHops) = await Measure(stack, baseImage, $"bench/{tag}-full", repetitions);
        var scansAfter = await SequentialReadsAsync(infra["Postgres__ConnectionString"], tag);
        // A query that reads a whole filled table on the way of a hop shows here (its rows read by sequential scans).
        var scanned = scansAfter.Where(a => a.Value.Rows - scansBefore.GetValueOrDefault(a.Key).Rows >= 10_000)
            .Select(a => $"{a.Key}: {a.Value.Scans - scansBefore.GetValueOrDefault(a.Key).Scans} scans, {a.Value.Rows - scansBefore.GetValueOrDefault(a.Key).Rows:N0} rows").ToList();
        Console.WriteLine($"sequential scans of 10,000 rows or more during the runs on full tables: {(scanned.Count == 0 ? "none" : string.Join("; ", scanned))}");

        Console.WriteLine($"empty tables: event → build.started {Stats.Describe(emptyToBuild, "ms")}; hops {Stats.Describe(emptyHops, "ms")}");
        Console.WriteLine($"{FinishedRuns:N0} finished runs: event → build.started {Stats.Describe(fullToBuild, "ms")}; hops {Stats.Describe(fullHops, "ms")}");
        var hopRatio = Stats.Median(fullHops) / Stats.Median(emptyHops);
        var buildRatio = Stats.Median(fullToBuild) / Stats.Median(emptyToBuild);
        table.Set("hop-at-scale",
            $"{hopRatio:F2}x (step → next step started: median {Stats.Median(fullHops):F0} ms over {Stats.Median(emptyHops):F0} ms, p99 {Stats.Percentile(fullHops, 0.99):F0} over {Stats.Percentile(emptyHops, 0.99):F0} ms; "
            + $"event → build.started {buildRatio:F2}x, median {Stats.Median(fullToBuild):F0} over {Stats.Median(emptyToBuild):F0} ms; n={repetitions} runs, {emptyHops.Count} hops each side)",
            hopRatio <= 1.2 && buildRatio <= 1.2);
    }

    /// <summary>Changes one at a time through the pipeline: event → first build.started, and every step → next step hop.</summary>
    private static async Task<(List<double> ToBuild, List<double> Hops)> Measure(PipelineStack stack, string baseImage, string projectPrefix, int repetitions)
    {
        var toBuild = new List<double>();
        var hops = new List<double>();
        for (var i = 0; i < repetitions; i++)
        {
            var project = $"{projectPrefix}-{i}";
            await stack.Gerrit.CreateProjectAsync(project);
            var up = await stack.Gerrit.UploadPatchsetAsync(project, "master", SampleProject.Files(baseImage), "Bench");
            var emitted = DateTimeOffset.UtcNow; // the stand-in emits patchset-created as the upload's last act
            var started = await stack.WaitForAsync(e => e.Type == EventTypes.NameOf<RunStarted>() && e.DataAs<RunStarted>().Trigger is var t
                && t.Project == project && t.Change == up.ChangeNumber, RunTimeout);
            var finished = await stack.WaitForAsync(e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<RunFinished>(), RunTimeout);
            if (finished.DataAs<RunFinished>().Outcome != RunOutcome.Succeeded)
                throw new InvalidOperationException($"run {started.RunId} of {project}: {finished.DataAs<RunFinished>().Reason}");
            var events = stack.Events.Where(e => e.RunId == started.RunId).OrderBy(e => e.Time).ToList();
            toBuild.Add((events.First(e => e.Type == EventTypes.NameOf<BuildStarted>()).Time - emitted).TotalMilliseconds);
            // Each step's success → the next step's start (the consumer hop, the job queued and leased, the step begun).
            var runHops = new List<double>();
            for (var k = 0; k < events.Count; k++)
            {
                if (!events[k].Type.EndsWith(".succeeded.v1", StringComparison.Ordinal)) continue;
                if (events.Skip(k + 1).FirstOrDefault(e => e.Type.EndsWith(".started.v1", StringComparison.Ordinal) && e.Type != EventTypes.NameOf<RunStarted>()) is { } next)
                    runHops.Add((next.Time - events[k].Time).TotalMilliseconds);
            }
            hops.AddRange(runHops);
            Console.WriteLine($"{project}: event → build.started {toBuild[^1]:F0} ms; hops {string.Join(", ", runHops.Select(h => $"{h:F0}"))} ms");
        }
        return (toBuild, hops);
    }

    /// <summary>
    /// Every service's tables with <see cref="FinishedRuns"/> finished runs' worth of rows, as a long-running installation
    /// keeps them within the retention window (rows 1 to 2.2 days old, every run finished, every job done). The outbox
    /// stays empty (the relay empties it as it goes: rows there would be sent), and so do the tables of what is pending or
    /// current (the publisher's images awaiting approval and deployed, the deployer's rollout heads: one row per service
    /// and environment, not per run). Returns the rows written.
    /// </summary>
    private static async Task<long> FillAsync(string postgres, string tag)
    {
        await using var conn = new NpgsqlConnection(postgres);
        await conn.OpenAsync();
        long total = 0;
        var deadline = DateTime.UtcNow + FillTimeout;
        string[] services = ["gerrit_gateway", "builder", "tester", "publisher", "deployer", "reporter"];
        foreach (var service in services)
        {
            var s = $"{tag}_{service}";
            // g: the run's number; its id, project, change and age derive from it.
            const string Run = "md5('fill' || g)";
            const string Age = "now() - interval '1 day' - (g % 1000000) * interval '1 second'";
            var statements = new List<(string Table, string Sql)>
            {
                // Each service consumes every pipeline event of a run (about 12 a run) and the gateway's events.
                ("inbox", $"INSERT INTO {s}.inbox (consumer, event_id, topic, partition, \"offset\", handled_at) SELECT c.name, md5('ev' || g || '-' || n), 'fill', 0, g * 12 + n, {Age} FROM generate_series(1, {FinishedRuns}) g, generate_series(1, 12) n, (SELECT coalesce((SELECT consumer FROM {s}.inbox LIMIT 1), 'fill') AS name) c"),
                // Each service runs a few jobs per run (plan, the steps, comments): three here.
                ("jobs", $"INSERT INTO {s}.jobs (kind, dedupe_key, run_id, payload, state, attempts, created_at, updated_at, finished_at) SELECT 'fill', 'fill-' || g || '-' || n, {Run}, '{{}}'::jsonb, 'succeeded', 1, {Age}, {Age}, {Age} FROM generate_series(1, {FinishedRuns}) g, generate_series(1, 3) n"),
                ("run_state", $"INSERT INTO {s}.run_state (run_id, started, steps, outcome, project, change, patchset, created_at, updated_at, last_event_at, last_event_type) SELECT {Run}, '{{}}'::jsonb, '{{}}'::jsonb, 'succeeded', 'bench/fill-' || (g % 1000), g, 1, {Age}, {Age}, {Age}, 'run.finished.v1' FROM generate_series(1, {FinishedRuns}) g"),
            };
            switch (service)
            {
                case "gerrit_gateway":
                    statements.Add(("seen_events", $"INSERT INTO {s}.seen_events (event_id, type, source, created_on, received_at) SELECT md5('gerrit' || g || '-' || n), 'patchset-created', 'Stream', {Age}, {Age} FROM generate_series(1, {FinishedRuns}) g, generate_series(1, 3) n"));
                    statements.Add(("published_comments", $"INSERT INTO {s}.published_comments (event_id, project, change_number, patch_set, author, text_hash, created_on, sources, received_at) SELECT md5('comment' || g), 'bench/fill-' || (g % 1000), g, 1, 'fill', md5('text' || g), {Age}, ARRAY['Stream'], {Age} FROM generate_series(1, {FinishedRuns}) g"));
                    break;
                case "builder":
                    statements.Add(("change_runs", $"INSERT INTO {s}.change_runs (run_id, project, change, patchset, created_at) SELECT {Run}, 'bench/fill-' || (g % 1000), g, 1, {Age} FROM generate_series(1, {FinishedRuns}) g"));
                    break;
                case "deployer":
                    statements.Add(("deployments", $"INSERT INTO {s}.deployments (run_id, environment, service, new_values, created_at) SELECT {Run}, 'staging', 'fill-' || (g % 1000), '{{}}'::jsonb, {Age} FROM generate_series(1, {FinishedRuns}) g"));
                    break;
                case "reporter":
                    statements.Add(("runs", $"INSERT INTO {s}.runs (run_id, project, change, patchset, revision, ref, trigger_kind, pipeline, total_steps, first_step, started_at, finished_at, outcome, updated_at) SELECT {Run}, 'bench/fill-' || (g % 1000), g, 1, md5('rev' || g) || left(md5('r' || g), 8), 'refs/changes/' || g, 'patchset', 'service', 4, 'build-test', {Age}, {Age}, 'succeeded', {Age} FROM generate_series(1, {FinishedRuns}) g"));
                    statements.Add(("steps", $"INSERT INTO {s}.steps (run_id, stage, step, kind, state, attempt, started_at, finished_at, duration_ms, output_tail) SELECT {Run}, 'stage' || n, 'step' || n, 'build', 'succeeded', 1, {Age}, {Age}, 1000, 'fill' FROM generate_series(1, {FinishedRuns}) g, generate_series(1, 4) n"));
                    statements.Add(("run_images", $"INSERT INTO {s}.run_images (run_id, stage, step, kind, image_ref, image_id, at) SELECT {Run}, 'stage' || n, 'step' || n, 'built', 'slipway/fill:' || left({Run}, 8), 'sha256:' || md5('i' || g || n), {Age} FROM generate_series(1, {FinishedRuns}) g, generate_series(1, 2) n"));
                    statements.Add(("deployments", $"INSERT INTO {s}.deployments (event_id, environment, service, kind, run_id, at) SELECT md5('dep' || g), 'staging', 'fill-' || (g % 1000), 'deploy', {Run}, {Age} FROM generate_series(1, {FinishedRuns}) g"));
                    statements.Add(("approvals", $"INSERT INTO {s}.approvals (run_id, environment, state, updated_at) SELECT {Run}, 'production', 'closed', {Age} FROM generate_series(1, {FinishedRuns}) g"));
                    break;
            }
            foreach (var (table, sql) in statements)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"filling the tables took over {FillTimeout}");
                await using (var exists = new NpgsqlCommand($"SELECT to_regclass('{s}.{table}') IS NOT NULL", conn))
                    if (!(bool)(await exists.ExecuteScalarAsync())!) continue; // this service has no such table
                await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = (int)FillTimeout.TotalSeconds };
                var n = await cmd.ExecuteNonQueryAsync();
                total += n;
                await using var analyze = new NpgsqlCommand($"ANALYZE {s}.{table}", conn) { CommandTimeout = 600 };
                await analyze.ExecuteNonQueryAsync();
                Console.WriteLine($"  {s}.{table}: {n:N0} rows");
            }
        }
        return total;
    }

    /// <summary>Per table of the stack's schemas: sequential scans so far and the rows they read (after the statistics are flushed).</summary>
    private static async Task<Dictionary<string, (long Scans, long Rows)>> SequentialReadsAsync(string postgres, string tag)
    {
        await Task.Delay(TimeSpan.FromSeconds(2)); // backends flush their statistics about once a second
        await using var conn = new NpgsqlConnection(postgres);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            "SELECT schemaname || '.' || relname, coalesce(seq_scan, 0), coalesce(seq_tup_read, 0) FROM pg_stat_user_tables WHERE schemaname LIKE $1", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = tag + "\\_%" });
        var reads = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) reads[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        return reads;
    }

    /// <summary>The builder's local image cleaner looks up runs by their id's first 8 characters: prints how Postgres does it.</summary>
    private static async Task ExplainPrefixQueryAsync(string postgres, string schema)
    {
        await using var conn = new NpgsqlConnection(postgres);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            $"EXPLAIN ANALYZE SELECT left(run_id, 8), bool_and(outcome IS NOT NULL), max(updated_at) FROM {schema}.run_state WHERE left(run_id, 8) = ANY($1) GROUP BY 1", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = new[] { "0123abcd", "deadbeef" } });
        var plan = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) plan.Add(reader.GetString(0));
        Console.WriteLine($"builder's run lookup by id prefix over {FinishedRuns:N0} runs:\n  {string.Join("\n  ", plan)}");
    }
}
