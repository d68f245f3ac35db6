using System.CommandLine;
using Slipway.Embedded;
using Slipway.Hosting.Lifetime;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway kafka`: hosts librdkafka's mock cluster in this process until SIGINT/SIGTERM.
/// The first stdout line is the bootstrap server list, so a parent process can read it.
/// A file `broker-down` in its working directory holding a broker id (1..brokers) takes that broker down until the
/// file is removed (the fault campaign's Kafka outage).
/// </summary>
internal static class KafkaCommand
{
    public static Command Create()
    {
        var brokers = new Option<int>("--brokers") { Description = "number of mock brokers", DefaultValueFactory = _ => 3 };
        var partitions = new Option<int>("--partitions")
        {
            Description = "partitions of the pre-created pipeline topics", DefaultValueFactory = _ => 4,
        };
        var prefix = new Option<string>("--topic-prefix")
        {
            Description = "prefix for the pre-created topic names", DefaultValueFactory = _ => "",
        };
        var command = new Command("kafka", "host an in-memory Kafka (librdkafka mock cluster) until interrupted")
        {
            brokers, partitions, prefix,
        };
        command.SetAction(async (parse, ct) =>
        {
            using var shutdown = new ShutdownSignal();
            using var cluster = new MockKafkaCluster(parse.GetValue(brokers), parse.GetValue(partitions), parse.GetValue(prefix) ?? "");
            Console.Out.WriteLine(cluster.BootstrapServers);
            Console.Out.Flush();
            Console.Error.WriteLine($"mock Kafka up ({cluster.LibraryPath}); stop with SIGINT/SIGTERM");
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var control = FollowBrokerDownFileAsync(cluster, parse.GetValue(brokers), Path.Combine(Environment.CurrentDirectory, BrokerDownFile), stop.Token);
            // Started for `slipway test`/`up` (SLIPWAY_PARENT_PID): ends with that process, also when it was killed.
            var parentGone = ParentProcess.FromEnvironment() is { } parent
                ? parent.WaitForExitAsync(ParentExitWatch.Interval, stop.Token)
                : Task.Delay(Timeout.Infinite, stop.Token);
            if (await Task.WhenAny(shutdown.WaitAsync(ct), parentGone) == parentGone && parentGone.IsCompletedSuccessfully)
                Console.Error.WriteLine("mock Kafka: the process that started it is gone");
            await stop.CancelAsync();
            await control;
            Console.Error.WriteLine("mock Kafka stopping");
            return 0;
        });
        return command;
    }

    public const string BrokerDownFile = "broker-down";

    /// <summary>Polls the control file: a broker id in it takes that broker down, its removal brings it back.</summary>
    private static async Task FollowBrokerDownFileAsync(MockKafkaCluster cluster, int brokers, string file, CancellationToken ct)
    {
        var down = 0;
        while (!ct.IsCancellationRequested)
        {
            string? text = null;
            try { text = File.Exists(file) ? (await File.ReadAllTextAsync(file, ct)).Trim() : null; }
            catch (IOException) { }
            catch (OperationCanceledException) { break; }
            var wanted = int.TryParse(text, out var id) && id >= 1 && id <= brokers ? id : 0;
            if (wanted != down)
            {
                if (down != 0) { cluster.SetBrokerDown(down, false); Console.Error.WriteLine($"broker {down} up"); }
                if (wanted != 0) { cluster.SetBrokerDown(wanted, true); Console.Error.WriteLine($"broker {wanted} down"); }
                down = wanted;
            }
            try { await Task.Delay(200, ct); } catch (OperationCanceledException) { break; }
        }
    }
}
