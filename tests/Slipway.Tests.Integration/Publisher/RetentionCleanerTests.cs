using Slipway.Publisher.Registry;

namespace Slipway.Tests.Integration.Publisher;

/// <summary>Retention against a real registry with deletes enabled.</summary>
[Collection(PublisherRegistryCollection.Name)]
public class RetentionCleanerTests(PublisherRegistryFixture fixture)
{
    [Fact]
    public async Task Keeps_the_newest_two_timestamp_tags_and_their_manifests_and_deletes_the_rest()
    {
        var repository = PublisherRegistryFixture.UniqueRepository("demo/retention");
        var start = new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);
        var published = new List<(IReadOnlyList<string> Tags, string Digest)>();
        for (var i = 0; i < 4; i++)
        {
            var tags = PublishTags.For(start.AddDays(i), "production", Guid.NewGuid().ToString("N") + i.ToString("x8"), null);
            var result = await fixture.Publisher().PublishAsync(await fixture.CreateImageAsync(), repository, tags, CancellationToken.None);
            published.Add((tags, result.Image.Digest));
        }
        // Pushed by someone else, no timestamp: not Slipway's to delete.
        var foreign = await fixture.Publisher().PublishAsync(await fixture.CreateImageAsync(), repository, ["hand-pushed"], CancellationToken.None);

        var plan = await fixture.Cleaner(keep: 2).ApplyAsync(repository);

        Assert.Equal([published[3].Tags[0], published[2].Tags[0]], plan.KeptTimestampTags);
        Assert.Equal(new HashSet<string> { published[0].Digest, published[1].Digest }, plan.DeleteDigests.Keys.ToHashSet());

        var registry = fixture.RegistryClient();
        var remaining = await registry.ListTagsAsync(repository);
        Assert.Equal(published.Skip(2).SelectMany(p => p.Tags).Append("hand-pushed").Order(), remaining.Order());
        foreach (var (tags, digest) in published.Take(2))
        {
            Assert.Null(await registry.GetManifestDigestAsync(repository, digest));
            foreach (var tag in tags) Assert.Null(await registry.GetManifestDigestAsync(repository, tag));
        }
        foreach (var (tags, digest) in published.Skip(2))
            foreach (var tag in tags) Assert.Equal(digest, await registry.GetManifestDigestAsync(repository, tag));
        Assert.Equal(foreign.Image.Digest, await registry.GetManifestDigestAsync(repository, "hand-pushed"));

        // Again: nothing more to delete.
        var again = await fixture.Cleaner(keep: 2).ApplyAsync(repository);
        Assert.Empty(again.DeleteDigests);
        Assert.False(await registry.DeleteManifestAsync(repository, published[0].Digest)); // already gone
    }

    [Fact]
    public async Task An_unknown_repository_has_nothing_to_clean() =>
        Assert.Empty((await fixture.Cleaner(keep: 1).ApplyAsync(PublisherRegistryFixture.UniqueRepository("demo/none"))).DeleteDigests);
}
