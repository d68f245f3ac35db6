using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Slipway.Contracts;
using Slipway.Publisher;
using Slipway.Publisher.Registry;
using Slipway.Storage;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Publisher;

/// <summary>
/// Retention never deletes an image that runs in an environment, is the way back of a rollback, or waits for
/// an approval, however old: the publisher learns these from the deployer's events (real Postgres, real registry).
/// </summary>
[Collection(PublisherRegistryCollection.Name)]
public class RetentionProtectionTests(PublisherRegistryFixture fixture)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);

    private static ContainerImage Image(string uri, string digest) => new() { Uri = uri, Digest = digest, Tags = [] };

    private static DeploySucceeded Deployed(string environment, ContainerImage image) => new()
    {
        Stage = "deploy-" + environment, Step = "deploy", Attempt = 1, StartedAt = T0, FinishedAt = T0, DurationMs = 0,
        Environment = environment, Service = "retained", RolloutStage = RolloutStage.Full, Percentage = 100, Image = image,
    };

    private static async Task RecordAsync(NpgsqlDataSource data, ProtectedImages ledger, string runId, IPipelineEvent e)
    {
        await using var conn = await data.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        // As the publisher's consumer hands it over: the envelope's typed event.
        var envelope = EventEnvelope.Create(e, "/tests", runId: runId, id: Guid.NewGuid().ToString("N"));
        await ledger.RecordAsync(tx, envelope.RunId, EventEnvelope.Parse(envelope.ToUtf8Json()).Event(), CancellationToken.None);
        await tx.CommitAsync();
    }

    [Fact]
    public async Task Deployed_rollback_target_and_waiting_images_survive_retention_and_the_rest_go()
    {
        var schema = new SchemaName(TestInfrastructure.UniqueName("pub_"));
        await SchemaMigrator.MigrateAsync(TestInfrastructure.PostgresConnectionString, schema, [typeof(ProtectedImages).Assembly], NullLogger.Instance);
        await using var data = NpgsqlDataSource.Create(TestInfrastructure.PostgresConnectionString);
        var ledger = new ProtectedImages(data, schema);
        var repository = PublisherRegistryFixture.UniqueRepository("demo/retained");
        var images = new List<ContainerImage>();
        for (var i = 0; i < 5; i++)
        {
            var tags = PublishTags.For(T0.AddDays(i), "production", Guid.NewGuid().ToString("N") + i.ToString("x8"), null);
            var result = await fixture.Publisher().PublishAsync(await fixture.CreateImageAsync(), repository, tags, CancellationToken.None);
            images.Add(Image(result.Image.Uri, result.Image.Digest));
        }

        // production ran 0, then 1 (0 is its rollback target); staging runs 1; 2 waits for production's approval.
        await RecordAsync(data, ledger, "run-0", Deployed("production", images[0]));
        await RecordAsync(data, ledger, "run-1", Deployed("staging", images[1]));
        await RecordAsync(data, ledger, "run-1", Deployed("production", images[1]));
        await RecordAsync(data, ledger, "run-2", new ApprovalRequested
        {
            RunId = "run-2", Environment = "production", Service = "retained", Stage = "deploy-production", Step = "deploy",
            Image = images[2], RequestedAt = T0,
        });

        var cleaner = new RetentionCleaner(fixture.RegistryClient(), new PublisherOptions { KeepTags = 1 }, NullLogger<RetentionCleaner>.Instance, ledger);
        var plan = await cleaner.ApplyAsync(repository);
        Assert.Equal(new HashSet<string> { images[3].Digest }, plan.DeleteDigests.Keys.ToHashSet()); // 4 is the newest, kept anyway
        var registry = fixture.RegistryClient();
        foreach (var kept in new[] { 0, 1, 2, 4 }) Assert.Equal(images[kept].Digest, await registry.GetManifestDigestAsync(repository, images[kept].Digest));
        Assert.Null(await registry.GetManifestDigestAsync(repository, images[3].Digest));

        // The waiting run ended without deploying: its image is no longer protected.
        await RecordAsync(data, ledger, "run-2", new RunFinished
        {
            Outcome = RunOutcome.Failed, Reason = "approval refused", Steps = [], StartedAt = T0, FinishedAt = T0, DurationMs = 0,
        });
        Assert.Equal(new HashSet<string> { images[2].Digest }, (await cleaner.ApplyAsync(repository)).DeleteDigests.Keys.ToHashSet());

        // production rolls back to 0: 0 runs, 1 stays as the way forward again; nothing else to delete.
        await RecordAsync(data, ledger, "run-1", new RollbackPerformed
        {
            Environment = "production", Service = "retained", Uri = images[1].Uri, FromDigest = images[1].Digest, ToDigest = images[0].Digest,
            Reason = RollbackReason.Manual, PerformedAt = T0,
        });
        Assert.Empty((await cleaner.ApplyAsync(repository)).DeleteDigests);
        foreach (var kept in new[] { 0, 1, 4 }) Assert.Equal(images[kept].Digest, await registry.GetManifestDigestAsync(repository, images[kept].Digest));
    }
}
