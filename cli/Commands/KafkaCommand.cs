using System.CommandLine;
using Slipway.Embedded;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway kafka`: hosts librdkafka's mock cluster in this process until SIGINT/SIGTERM.
/// The first stdout line is the bootstrap server list, so a parent process can read it.
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
            await shutdown.WaitAsync(ct);
            Console.Error.WriteLine("mock Kafka stopping");
            return 0;
        });
        return command;
    }
}
