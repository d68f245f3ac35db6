using System.CommandLine;
using Npgsql;
using Slipway.Cli.Stack;
using Slipway.Cli.Demo;
using Slipway.Contracts;
using Slipway.Gerrit.Events;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway demo`: the main job on the embedded defaults. Today it brings up the infrastructure,
/// the Gerrit stand-in and the six services, uploads a patchset of a sample service to Gerrit,
/// and shows the gateway carrying Gerrit's patchset-created into Kafka and the builder handling
/// it. The stage logic — build, test, publish, deploy — is not written yet; the demo says so.
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
        var gerrit = stack.Gerrit!;
        var baseImage = env.GetValueOrDefault("Slipway__BaseImage") ?? "debian:bookworm";

        Say($"step 1/3: creating project {SampleProject.Name} in Gerrit and waiting for the gateway's stream-events connection");
        await gerrit.CreateProjectAsync(SampleProject.Name, ct: ct);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (gerrit.StreamConnections == 0)
        {
            if (DateTime.UtcNow > deadline) { Say("FAILED: the gateway did not connect to Gerrit's stream-events within 60 s"); return false; }
            await Task.Delay(200, ct);
        }

        Say("step 2/3: a developer uploads a patchset (a Python HTTP service with .pipeline/blubber.yaml and an OpenAPI spec)");
        var upload = await gerrit.UploadPatchsetAsync(SampleProject.Name, "master", SampleProject.Files(baseImage), "Add hello service", ct: ct);
        Say($"  change {upload.ChangeNumber}, patch set {upload.PatchSet}, {upload.Ref} at {upload.Revision[..12]}");
        var gerritEvent = GerritEventParser.Parse(upload.EventJson, GerritEventSource.Stream, DateTimeOffset.UtcNow);
        var eventId = GerritEventIdentity.IdOf(gerritEvent);

        Say("step 3/3: the gateway publishes patchset-created to gerrit.events; waiting for the builder to handle it");
        await using var db = new NpgsqlConnection(env["Postgres__ConnectionString"]);
        await db.OpenAsync(ct);
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            await using var cmd = new NpgsqlCommand("SELECT topic, partition, \"offset\", handled_at FROM builder.inbox WHERE event_id = $1", db);
            cmd.Parameters.Add(new NpgsqlParameter { Value = eventId });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                Say($"  builder handled event {eventId} from {reader.GetString(0)}[{reader.GetInt32(1)}]@{reader.GetInt64(2)}, key {PartitionKeys.For(gerritEvent)}");
                Say($"done: Gerrit (sshd stream-events) -> gerrit-gateway -> Kafka -> builder, once. Gerrit comments so far: {gerrit.Reviews(upload.ChangeNumber).Count}.");
                Say("not built yet: the builder's trigger rules and builds, tests, publishing, deploying, so no run starts and no comment is posted.");
                return true;
            }
            await reader.DisposeAsync();
            await Task.Delay(250, ct);
        }
        Say("FAILED: the builder did not handle the patchset-created event within 60 s");
        return false;
    }

    private static void Say(string line) => ServiceStack.Print("demo", ConsoleColor.White, line);
}
