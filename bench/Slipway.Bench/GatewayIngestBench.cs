using System.Diagnostics;
using Confluent.Kafka;
using Dapper;
using Npgsql;
using Slipway.Contracts;
using StandIn = Slipway.GerritStandIn.GerritStandIn;

namespace Slipway.Bench;

/// <summary>
/// Gateway ingest: Gerrit's stream (the stand-in's real sshd) into the gateway process, through its
/// Postgres transactions and outbox relay, to acknowledged Kafka writes. Events are comments on one change.
///   1. throughput: N prepared <c>comment-added</c> lines (made before the clock starts from a real comment event of the
///      stand-in, each with its own text) replayed into the stream, at most 100 not yet written at any time (the
///      stand-in, like Gerrit, keeps 128 events per connection), from the first sent to the last written to Kafka;
///      also the last database write, which separates the gateway's writes from its relay;
///   2. latency at 100 events/s (<c>paced</c> comments through the stand-in's review call): per event, from the gateway's database write (the line was read and
///      parsed just before) to the Kafka message's timestamp, p50 and p99.
///   1b. throughput of a replay: N more prepared lines handed to the stand-in as fast as its per-connection queue takes
///      them (waiting, never dropping), from the first to the last written to Kafka: what the gateway can ingest when
///      the stream is not held back by the window of step 1;
/// Returns both throughputs (events/s).
/// </summary>
public static class GatewayIngestBench
{
    public static async Task<GatewayIngestRates> RunAsync(string bootstrap, string postgres, int count, int paced = 1000, IReadOnlyDictionary<string, string>? settings = null)
    {
        var run = $"gwbench{Guid.NewGuid():N}"[..15];
        var schema = run.Replace("gwbench", "gwbench_");
        var topic = $"{run}.{Topics.GerritEvents}";
        await using var gerrit = await StandIn.StartAsync();
        await gerrit.CreateProjectAsync("bench/service");
        var change = (await gerrit.UploadPatchsetAsync("bench/service", "master", new Dictionary<string, string?> { ["a"] = "1\n" }, "Bench")).ChangeNumber;
        var (key, _) = await gerrit.CreateClientKeyAsync();
        var knownHosts = Path.Combine(gerrit.WorkDirectory, "bench_known_hosts");
        await File.WriteAllTextAsync(knownHosts, gerrit.KnownHostsLine + "\n");

        var info = new ProcessStartInfo("dotnet", GatewayDll()) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in new Dictionary<string, string>
        {
            ["Kafka__BootstrapServers"] = bootstrap, ["Kafka__TopicPrefix"] = run + ".", ["Postgres__ConnectionString"] = postgres,
            ["Postgres__Schema"] = schema, ["Gerrit__Url"] = gerrit.HttpUrl, ["Gerrit__HttpUser"] = gerrit.HttpUser,
            ["Gerrit__HttpPassword"] = gerrit.HttpPassword, ["Gerrit__Ssh__Url"] = gerrit.SshUrl,
            ["Gerrit__Ssh__PrivateKeyPath"] = key, ["Gerrit__Ssh__KnownHostsPath"] = knownHosts,
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0", ["Logging__LogLevel__Default"] = "Warning",
        }) info.Environment[k] = v;
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) info.Environment[k] = v;
        using var gateway = Process.Start(info)!;
        gateway.OutputDataReceived += (_, _) => { };
        gateway.ErrorDataReceived += (_, _) => { };
        gateway.BeginOutputReadLine();
        gateway.BeginErrorReadLine();
        await using var db = new NpgsqlConnection(postgres);
        await db.OpenAsync();
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5); // bounds every wait below
            // Live when a ping comes through.
            while (await Seen(db, schema) == 0 && DateTime.UtcNow < deadline)
            {
                await gerrit.CommentAsync(change, $"ping {Guid.NewGuid():N}");
                await Task.Delay(500);
            }
            var baseline = await Seen(db, schema);

            // 1. Throughput: prepared lines, from a real comment event of the stand-in.
            var template = System.Text.Json.Nodes.JsonNode.Parse(gerrit.Events().Last(e => e.Type == "comment-added").Json)!.AsObject();
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var lines = Enumerable.Range(0, count).Select(i =>
            {
                var line = template.DeepClone().AsObject();
                line["comment"] = $"Patch Set 1:\n\nthroughput {i}";
                line["eventCreatedOn"] = now;
                return line.ToJsonString();
            }).ToList();
            var clock = Stopwatch.StartNew();
            var started = DateTime.UtcNow;
            for (var sent = 0; (sent < count || await Seen(db, schema) < baseline + count) && DateTime.UtcNow < deadline;)
            {
                var window = 100 - (sent - (int)(await Seen(db, schema) - baseline));
                for (var i = 0; i < window && sent < count; i++, sent++) gerrit.EmitRawLine(lines[sent]);
                await Task.Delay(2);
            }
            var lastWrite = LastKafkaTimestamp(bootstrap, topic, (int)baseline + count);
            var lastDb = DateTime.SpecifyKind(await db.ExecuteScalarAsync<DateTime>($"SELECT max(received_at) FROM {schema}.seen_events"), DateTimeKind.Utc);
            var seconds = (lastWrite - started).TotalSeconds;
            Console.WriteLine($"gateway ingest throughput (stream -> Postgres -> Kafka ack) {count,7} events in {seconds,7:F2} s = {count / seconds,9:F0} events/s "
                              + $"(last database write after {(lastDb - started).TotalSeconds:F2} s = {count / (lastDb - started).TotalSeconds:F0} events/s)");

            // 1b. Throughput of a replay: the same number of other prepared lines, handed to the stand-in as fast as its
            // queue (128 per connection, as Gerrit's) takes them, so nothing is dropped and nothing waits for this loop.
            var replayLines = lines.Select(l => l.Replace("throughput ", "replay ", StringComparison.Ordinal)).ToList();
            var replayBaseline = await Seen(db, schema);
            var cpuAtStart = await TakeCpuSnapshotAsync(db, gateway.Id, gerrit.SshdPid);
            var replayStarted = DateTime.UtcNow;
            await gerrit.ReplayRawLinesAsync(replayLines).WaitAsync(deadline - DateTime.UtcNow);
            while (await Seen(db, schema) < replayBaseline + count && DateTime.UtcNow < deadline) await Task.Delay(5);
            var replayLast = LastKafkaTimestamp(bootstrap, topic, (int)replayBaseline + count);
            var replaySeconds = (replayLast - replayStarted).TotalSeconds;
            Console.WriteLine($"gateway ingest throughput, replayed as fast as the stream takes it  {count,7} events in {replaySeconds,7:F2} s = {count / replaySeconds,9:F0} events/s");
            var cpu = (await TakeCpuSnapshotAsync(db, gateway.Id, gerrit.SshdPid)).Since(cpuAtStart);
            Console.WriteLine($"CPU during the replay, per event (the broker's not counted; the bench's process also runs the stand-in's HTTP side):");
            foreach (var (group, cpuSeconds) in cpu.Take(12))
                Console.WriteLine($"  {group,-40} {cpuSeconds,7:F2} s  {cpuSeconds * 1e6 / count,7:F0} us/event");
            Console.WriteLine($"  {"all of the above",-40} {cpu.Sum(c => c.Seconds),7:F2} s  {cpu.Sum(c => c.Seconds) * 1e6 / count,7:F0} us/event");

            // 2. Latency at 100 events/s.
            var next = Stopwatch.StartNew();
            for (var i = 0; i < paced; i++)
            {
                await gerrit.CommentAsync(change, $"latency {i}");
                var due = TimeSpan.FromMilliseconds(10 * (i + 1));
                if (next.Elapsed < due) await Task.Delay(due - next.Elapsed);
            }
            var total = (int)baseline + 2 * count + paced; // the pings, both throughput parts, the paced comments
            var kafkaTimes = KafkaTimestamps(bootstrap, topic, total);
            var written = (await db.QueryAsync<(string Id, DateTime At)>(
                $"SELECT event_id, received_at FROM {schema}.seen_events ORDER BY received_at DESC LIMIT {paced}")).ToList();
            var latencies = written.Where(w => kafkaTimes.ContainsKey(w.Id))
                .Select(w => (kafkaTimes[w.Id] - DateTime.SpecifyKind(w.At, DateTimeKind.Utc)).TotalMilliseconds).Order().ToList();
            if (latencies.Count == 0) throw new InvalidOperationException($"no latency samples: {written.Count} written, {kafkaTimes.Count} on Kafka");
            Console.WriteLine($"gateway latency at 100 events/s, database write -> Kafka message ({latencies.Count} events): " +
                $"p50 {Percentile(latencies, 0.50):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms, max {latencies.Max():F1} ms");
            Console.WriteLine($"(elapsed {clock.Elapsed.TotalSeconds:F0} s; dropped-output events: {gerrit.Events().Count(e => e.Type == "dropped-output")})");
            return new GatewayIngestRates(count / seconds, count / replaySeconds);
        }
        finally
        {
            gateway.Kill(entireProcessTree: true);
            await gateway.WaitForExitAsync();
            await db.ExecuteAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }

    /// <summary>Events/s with at most 100 lines not yet written (step 1) and replayed as fast as the stream takes them (step 1b).</summary>
    public readonly record struct GatewayIngestRates(double Windowed, double Replayed);

    /// <summary>The gateway's threads, the stand-in's sshd and what it runs per connection, this process (the stand-in's
    /// HTTP side and the bench), and every process of the embedded Postgres cluster.</summary>
    private static async Task<CpuSnapshot> TakeCpuSnapshotAsync(NpgsqlConnection db, int gatewayPid, int? sshdPid)
    {
        var postgres = await db.QueryAsync<(int Pid, string Kind)>(
            "SELECT pid, coalesce(backend_type, '?') FROM pg_stat_activity WHERE pid <> pg_backend_pid()");
        var ssh = sshdPid is { } root ? DescendantsOf(root).Append(root).Select(p => (p, "sshd")) : [];
        return CpuSnapshot.Take([(gatewayPid, "gateway"), (Environment.ProcessId, "bench"), .. ssh, .. postgres.Select(p => (p.Pid, "postgres " + p.Kind))]);
    }

    /// <summary>Every process below <paramref name="root"/> (from each /proc/PID/stat's parent).</summary>
    private static List<int> DescendantsOf(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                parents[pid] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (IOException) { } // ended meanwhile
        }
        var found = new List<int>();
        var frontier = new Queue<int>([root]);
        while (frontier.TryDequeue(out var parent))
            foreach (var (pid, ppid) in parents)
                if (ppid == parent) { found.Add(pid); frontier.Enqueue(pid); }
        return found;
    }

    private static async Task<long> Seen(NpgsqlConnection db, string schema)
    {
        try { return await db.ExecuteScalarAsync<long>($"SELECT count(*) FROM {schema}.seen_events WHERE type = 'comment-added'"); }
        catch (PostgresException e) when (e.SqlState == "42P01") { return 0; }
    }

    private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];

    private static DateTime LastKafkaTimestamp(string bootstrap, string topic, int expected) =>
        KafkaTimestamps(bootstrap, topic, expected).Values.Max();

    /// <summary>Comment events on the topic by id, with their Kafka timestamps: read until <paramref name="expected"/>
    /// arrived, or nothing new came for 5 s, or 2 minutes passed.</summary>
    private static Dictionary<string, DateTime> KafkaTimestamps(string bootstrap, string topic, int expected)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
            { BootstrapServers = bootstrap, GroupId = topic + Guid.NewGuid().ToString("N")[..6], AutoOffsetReset = AutoOffsetReset.Earliest }).Build();
        consumer.Subscribe(topic);
        var times = new Dictionary<string, DateTime>();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        var lastNew = DateTime.UtcNow;
        while (times.Count < expected && DateTime.UtcNow < deadline && DateTime.UtcNow - lastNew < TimeSpan.FromSeconds(5))
        {
            try
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r is null) continue;
                lastNew = DateTime.UtcNow;
                var e = EventEnvelope.Parse(r.Message.Value);
                if (e.Type == EventTypes.NameOf<GerritEvent>() && e.DataAs<GerritEvent>().Type == "comment-added")
                    times[e.Id] = r.Message.Timestamp.UtcDateTime;
            }
            catch (ConsumeException) { }
        }
        consumer.Close();
        return times;
    }

    private static string GatewayDll()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Slipway.sln")))
                return Path.Combine(dir.FullName, "services", "gerrit-gateway", "bin", "Release", "net10.0", "Slipway.GerritGateway.dll");
        throw new InvalidOperationException("Slipway.sln not found");
    }
}
