using System.CommandLine;
using System.Text.Json;
using Confluent.Kafka;
using Npgsql;
using Slipway.Cli.Stack;
using Slipway.Contracts;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway demo`: the main job on the embedded defaults. Today it brings up the infrastructure
/// and the six services, publishes a Gerrit patchset-created event to gerrit.events as the gateway
/// would, and shows the builder handling it (consumer group, inbox, trace). The stage logic —
/// build, test, publish, deploy, report back to Gerrit — is not written yet; the demo says so.
/// Exits 0 only if every step it shows did what it said.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var state = new Option<string>("--state") { Description = "state directory", DefaultValueFactory = _ => Path.Combine(RepoPaths.Root(), ".slipway", "demo") };
        var command = new Command("demo", "run the main job on the embedded defaults: a Gerrit event carried into the pipeline") { state };
        command.SetAction(async (parse, ct) =>
        {
            await using var stack = await EmbeddedStack.TryStartAsync(parse.GetValue(state)!, keepInfra: false, ct);
            if (stack is null) return 1;
            return await RunScenarioAsync(stack, ct) ? 0 : 1;
        });
        return command;
    }

    private static async Task<bool> RunScenarioAsync(EmbeddedStack stack, CancellationToken ct)
    {
        var env = stack.Environment;
        const string project = "demo/hello-service";
        const int change = 1;
        var revision = Convert.ToHexString(System.Security.Cryptography.SHA1.HashData("demo"u8)).ToLowerInvariant();
        var raw = JsonSerializer.SerializeToElement(new
        {
            type = "patchset-created",
            change = new { project, branch = "main", number = change, id = "I" + revision, subject = "Add a hello endpoint" },
            patchSet = new { number = 1, revision, @ref = "refs/changes/01/1/1" },
            eventCreatedOn = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        });
        var gerritEvent = new GerritEvent
        {
            Type = "patchset-created", Project = project, Branch = "main", ChangeNumber = change, ChangeId = "I" + revision,
            PatchSetNumber = 1, Revision = revision, Ref = "refs/changes/01/1/1", Subject = "Add a hello endpoint",
            EventCreatedOn = DateTimeOffset.UtcNow, Source = GerritEventSource.Stream, Raw = raw,
        };
        var envelope = EventEnvelope.Create(gerritEvent, source: "/slipway/demo", subject: $"{project}~{change}",
            id: DeterministicId.From("demo", project, change.ToString(), "1", DateTimeOffset.UtcNow.ToString("O")));
        var topic = (env.GetValueOrDefault("Kafka__TopicPrefix") ?? "") + Topics.GerritEvents;

        Say($"step 1/2: patchset 1 of change {change} in {project} uploaded; publishing Gerrit's patchset-created to {topic}");
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
               { BootstrapServers = env["Kafka__BootstrapServers"], EnableIdempotence = true }).Build())
        {
            var delivered = await producer.ProduceAsync(topic, new Message<string, byte[]>
                { Key = PartitionKeys.For(gerritEvent), Value = envelope.ToUtf8Json() }, ct);
            Say($"  delivered to {delivered.TopicPartitionOffset} with key {delivered.Message.Key}, event id {envelope.Id}");
        }

        Say("step 2/2: waiting for the builder (consumer group 'builder') to handle it");
        await using var db = new NpgsqlConnection(env["Postgres__ConnectionString"]);
        await db.OpenAsync(ct);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            await using var cmd = new NpgsqlCommand("SELECT topic, partition, \"offset\", handled_at FROM builder.inbox WHERE event_id = $1", db);
            cmd.Parameters.Add(new NpgsqlParameter { Value = envelope.Id });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                Say($"  builder handled it: inbox row {reader.GetString(0)}[{reader.GetInt32(1)}]@{reader.GetInt64(2)} at {reader.GetDateTime(3):HH:mm:ss.fff}");
                Say("done: the event crossed Kafka into the builder, exactly once (inbox).");
                Say("not yet built: fetching and building the change, testing, publishing, deploying and the Gerrit comments.");
                return true;
            }
            await reader.DisposeAsync();
            await Task.Delay(250, ct);
        }
        Say("FAILED: the builder did not handle the event within 60 s");
        return false;
    }

    private static void Say(string line) => ServiceStack.Print("demo", ConsoleColor.White, line);
}
