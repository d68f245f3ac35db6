using System.Diagnostics;
using Confluent.Kafka;
using Dapper;
using Npgsql;
using Slipway.Contracts;
using Slipway.Tests.ProbeService;

namespace Slipway.Bench;

/// <summary>
/// Messaging throughput on the embedded broker and Postgres, one bounded run each:
///   1. raw Confluent.Kafka: produce N events, then consume them (no database);
///   2. the messaging host: the probe service (a separate process) first handles rounds of W warm-up events (a quarter
///      of N each) until its JIT's background compiler is done moving the hot path to the optimized tier (under
///      <see cref="SettledJitMicrosPerEvent"/> µs of that thread's CPU per event in a round, at most
///      <see cref="MaxWarmupRounds"/> rounds): its JIT tiers, connection pool and consumer fetch session warm, as a
///      service's are after its first seconds; each round's rate is printed, the first as the cold start. Then it
///      consumes the N events, produced only once the warm-up was relayed, each in a transaction with its inbox row,
///      its effect row and an outbox event, and its relay produces the N outgoing events.
/// Returns the host's end-to-end rate over the N events (events/s).
/// </summary>
public static class MessagingHostBench
{
    /// <summary>Warm-up rounds at most (bounded in count; each is also bounded by the run's time limit).</summary>
    private const int MaxWarmupRounds = 8;

    /// <summary>Measured windows of N events after the warm-up, in the same process; the figure is their median.</summary>
    private const int Repetitions = 3;

    /// <summary>The JIT's background thread under this much CPU per event in a round: the hot path is compiled.</summary>
    private const double SettledJitMicrosPerEvent = 3;

    public static async Task<double> RunAsync(string bootstrap, string postgres, int count, IReadOnlyDictionary<string, string>? probeSettings = null)
    {
        var timeout = TimeSpan.FromMinutes(5); // every loop below is bounded by this as well as by the count

        var run = $"bench{Guid.NewGuid():N}"[..13];
        var inTopic = $"{run}.probe.in";
        var outTopic = $"{run}.probe.out";
        Console.WriteLine($"events: {count}, run: {run}, cores: {Environment.ProcessorCount}");

        // 1a. Produce (also the host's input: the measured events; the warm-up ones go to the host's topic only).
        var warmup = Math.Max(1, count / 4);
        // Warm-up round r takes events [r * W, (r + 1) * W); the measured ones come after the last possible round.
        var measuredFrom = warmup * MaxWarmupRounds;
        var payloads = Enumerable.Range(0, measuredFrom + Repetitions * count).Select(i => EventEnvelope.Create(new ProbeEvent($"change-{i % 64}", i), "/bench",
            id: DeterministicId.From(run, i.ToString())).ToUtf8Json()).ToList();
        Console.WriteLine($"event size: {payloads[0].Length} bytes");
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
            { BootstrapServers = bootstrap, EnableIdempotence = true, Acks = Acks.All, LingerMs = 5 }).Build();
        void Produce(string topic, int from, int to)
        {
            for (var i = from; i < to; i++)
            {
                while (true)
                {
                    try { producer.Produce(topic, new Message<string, byte[]> { Key = $"change-{i % 64}", Value = payloads[i] }); break; }
                    catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull) { producer.Poll(TimeSpan.FromMilliseconds(10)); }
                }
            }
            producer.Flush(timeout);
        }
        var rawTopic = $"{run}.raw";
        var produceClock = Stopwatch.StartNew();
        Produce(rawTopic, measuredFrom, measuredFrom + count);
        Report("raw produce", count, produceClock.Elapsed);

        // 1b. Raw consume: from the first message received to the last.
        double rawRate;
        using (var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
               { BootstrapServers = bootstrap, GroupId = run + "-raw", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = true }).Build())
        {
            consumer.Subscribe(rawTopic);
            var received = 0;
            Stopwatch? clock = null;
            var deadline = DateTime.UtcNow + timeout;
            while (received < count && DateTime.UtcNow < deadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is null) continue;
                clock ??= Stopwatch.StartNew();
                received++;
            }
            consumer.Close();
            rawRate = Report("raw consume", received, clock!.Elapsed);
        }

        // 2. The messaging host, as its own process: inbox + handler effect + outbox + relay per event.
        var schema = run.Replace("bench", "bench_");
        var probeDll = Path.Combine(AppContext.BaseDirectory, "Slipway.Tests.ProbeService.dll");
        var info = new ProcessStartInfo("dotnet", probeDll) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["Kafka__BootstrapServers"] = bootstrap;
        info.Environment["Kafka__TopicPrefix"] = run + ".";
        info.Environment["Postgres__ConnectionString"] = postgres;
        info.Environment["Probe__Schema"] = schema;
        info.Environment["Probe__Echo"] = "true";
        info.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        // As the services are started (PipelineStack, ./slipway up, the image): the 4 MB young-generation budget.
        info.Environment["DOTNET_GCgen0size"] = Environment.GetEnvironmentVariable("DOTNET_GCgen0size") ?? "0x400000";
        foreach (var (k, v) in probeSettings ?? new Dictionary<string, string>()) info.Environment[k] = v;
        using var probe = Process.Start(info)!;
        probe.OutputDataReceived += (_, _) => { };
        probe.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("probe: " + e.Data); };
        probe.BeginOutputReadLine();
        probe.BeginErrorReadLine();
        try
        {
            await using var db = new NpgsqlConnection(postgres);
            await db.OpenAsync();
            var deadline = DateTime.UtcNow + timeout;
            long handled = 0, outbox = -1, handledAtStart = 0;
            var rounds = 0;
            // Warm-up rounds: each round's events handled and relayed before the next round (or the measured ones) is produced.
            for (var round = 0; round < MaxWarmupRounds && DateTime.UtcNow < deadline; round++)
            {
                var cpuBefore = round == 0 ? null : await TakeCpuSnapshotAsync(db, probe.Id);
                Produce(inTopic, round * warmup, (round + 1) * warmup);
                rounds++;
                handled = 0;
                outbox = -1;
                while (DateTime.UtcNow < deadline && (handled < warmup || outbox != 0))
                {
                    await Task.Delay(50);
                    try
                    {
                        handled = await db.ExecuteScalarAsync<long>(
                            $"SELECT count(*) FROM {schema}.handled WHERE seq >= {round * warmup} AND seq < {(round + 1) * warmup}");
                        outbox = await db.ExecuteScalarAsync<long>($"SELECT count(*) FROM {schema}.outbox");
                    }
                    catch (PostgresException e) when (e.SqlState == "42P01") { }
                }
                var (roundFirst, roundLast) = await db.QuerySingleAsync<(DateTime, DateTime)>(
                    $"SELECT min(handled_at), max(handled_at) FROM {schema}.handled WHERE seq >= {round * warmup} AND seq < {(round + 1) * warmup}");
                if (cpuBefore is null)
                {
                    // The first round includes the process's start-up: its JIT time is not comparable.
                    Report("warm-up round 1: a fresh host's first events (cold start)", warmup, roundLast - roundFirst);
                    continue;
                }
                var jit = (await TakeCpuSnapshotAsync(db, probe.Id)).Since(cpuBefore)
                    .Where(c => c.Group.StartsWith("probe: .NET Tiered", StringComparison.Ordinal)).Sum(c => c.Seconds) * 1e6 / warmup;
                Report($"warm-up round {round + 1} (JIT's background compiler {jit:F0} us/event)", warmup, roundLast - roundFirst);
                if (jit < SettledJitMicrosPerEvent) break;
            }
            // The measured windows, one after the other in the same warm process: the median is the figure.
            var rates = new List<double>();
            for (var rep = 0; rep < Repetitions && DateTime.UtcNow < deadline; rep++)
            {
                var from = measuredFrom + rep * count;
                Produce(inTopic, from, from + count);
                handled = 0;
                outbox = -1;
                CpuSnapshot? cpuAtStart = null;
                while (DateTime.UtcNow < deadline && (handled < count || outbox != 0))
                {
                    await Task.Delay(cpuAtStart is null ? 20 : 250);
                    try
                    {
                        handled = await db.ExecuteScalarAsync<long>($"SELECT count(*) FROM {schema}.handled WHERE seq >= {from}");
                        outbox = await db.ExecuteScalarAsync<long>($"SELECT count(*) FROM {schema}.outbox");
                        // Where the CPU goes from the first event handled on.
                        if (cpuAtStart is null && handled > 0)
                        {
                            cpuAtStart = await TakeCpuSnapshotAsync(db, probe.Id);
                            handledAtStart = handled;
                        }
                    }
                    catch (PostgresException e) when (e.SqlState == "42P01") { }
                }
                Console.WriteLine($"measured window {rep + 1} of {Repetitions}:");
                var (first, last) = await db.QuerySingleAsync<(DateTime, DateTime)>($"SELECT min(handled_at), max(handled_at) FROM {schema}.handled WHERE seq >= {from}");
                Report("  host handle (inbox+effect+outbox)", (int)handled, last - first);

                // End to end: first event handled until the last outgoing event is in Kafka.
                var lastOut = LastTimestamp(bootstrap, outTopic, from, count, timeout);
                rates.Add(Report("  host end-to-end (in -> handled -> relayed out)", count, lastOut - first.ToUniversalTime()));
                if (cpuAtStart is not null)
                {
                    var window = count - handledAtStart;
                    var cpu = (await TakeCpuSnapshotAsync(db, probe.Id)).Since(cpuAtStart);
                    Console.WriteLine($"  CPU from the first event handled to the last relayed, per event ({window} events; the bench's own and the broker's not counted):");
                    foreach (var (group, seconds) in cpu.Take(8))
                        Console.WriteLine($"    {group,-40} {seconds,7:F2} s  {seconds * 1e6 / window,7:F0} us/event");
                    Console.WriteLine($"    {"all of the above",-40} {cpu.Sum(c => c.Seconds),7:F2} s  {cpu.Sum(c => c.Seconds) * 1e6 / window,7:F0} us/event");
                }
            }
            var e2eRate = Stats.Median(rates);
            Console.WriteLine($"host end-to-end, median of {rates.Count} windows: {e2eRate:F0} events/s ({string.Join(", ", rates.Select(r => r.ToString("F0")))})");
            Console.WriteLine($"raw consume / host end-to-end: {rawRate / e2eRate:F2}x (target: within 5x; host target >= 2000 events/s)");
            await db.ExecuteAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
            return e2eRate;
        }
        finally
        {
            probe.Kill(entireProcessTree: true);
            await probe.WaitForExitAsync();
        }
    }

    /// <summary>The probe's threads and every process of the embedded Postgres cluster (its backends and background workers).</summary>
    private static async Task<CpuSnapshot> TakeCpuSnapshotAsync(NpgsqlConnection db, int probePid)
    {
        var postgres = await db.QueryAsync<(int Pid, string Kind)>(
            "SELECT pid, coalesce(backend_type, '?') FROM pg_stat_activity WHERE pid <> pg_backend_pid()");
        return CpuSnapshot.Take([(probePid, "probe"), .. postgres.Select(p => (p.Pid, "postgres " + p.Kind))]);
    }

    private static double Report(string name, int n, TimeSpan elapsed)
    {
        var rate = n / elapsed.TotalSeconds;
        Console.WriteLine($"{name,-50} {n,7} events in {elapsed.TotalSeconds,7:F2} s = {rate,9:F0} events/s");
        return rate;
    }

    /// <summary>
    /// The latest broker timestamp of the echoes of the measured events (seq from <paramref name="fromSeq"/> on). Only
    /// those are awaited: the mock broker keeps at most 5 MB a partition and drops the oldest beyond, which the warm-up
    /// rounds' echoes can be.
    /// </summary>
    private static DateTime LastTimestamp(string bootstrap, string topic, int fromSeq, int expected, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
            { BootstrapServers = bootstrap, GroupId = $"{topic}-check-{fromSeq}", AutoOffsetReset = AutoOffsetReset.Earliest }).Build();
        consumer.Subscribe(topic);
        var seen = new HashSet<string>();
        var seqs = new HashSet<int>();
        var last = DateTime.MinValue;
        var deadline = DateTime.UtcNow + timeout;
        while (seen.Count < expected && DateTime.UtcNow < deadline)
        {
            try
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r is null) continue;
                var envelope = EventEnvelope.Parse(r.Message.Value);
                var seq = envelope.DataAs<ProbeEvent>().Seq;
                if (seq < fromSeq) continue;
                seen.Add(envelope.Id);
                seqs.Add(seq);
                if (r.Message.Timestamp.UtcDateTime > last) last = r.Message.Timestamp.UtcDateTime;
            }
            catch (ConsumeException) { }
        }
        if (seen.Count < expected)
        {
            // Which ones, and where each partition begins and ends on the broker.
            var marks = consumer.Assignment.Select(tp => $"{tp.Partition.Value}: {consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(5))}");
            var missing = Enumerable.Range(fromSeq, expected).Where(i => !seqs.Contains(i)).ToList();
            var ranges = missing.Select((m, i) => (m, group: m - i)).GroupBy(x => x.group)
                .Select(g => g.First().m == g.Last().m ? $"{g.First().m}" : $"{g.First().m}-{g.Last().m}");
            Console.WriteLine($"missing from {topic}: {string.Join(",", ranges.Take(40))}; watermarks {string.Join("; ", marks)}");
            consumer.Close();
            throw new TimeoutException($"only {seen.Count} of {expected} events reached {topic}");
        }
        consumer.Close();
        return last;
    }
}
