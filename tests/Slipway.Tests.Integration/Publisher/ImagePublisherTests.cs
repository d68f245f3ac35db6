using System.Text.RegularExpressions;
using Docker.DotNet;
using Slipway.Containers;
using Slipway.Publisher.Registry;

namespace Slipway.Tests.Integration.Publisher;

/// <summary>Publishing to a real registry (the embedded distribution registry) through a real Docker engine.</summary>
[Collection(PublisherRegistryCollection.Name)]
public class ImagePublisherTests(PublisherRegistryFixture fixture)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 22, 15, 0, TimeSpan.Zero);
    private static string Sha() => Guid.NewGuid().ToString("N") + "01234567";

    [Fact]
    public async Task Pushes_every_tag_at_one_manifest_digest()
    {
        var image = await fixture.CreateImageAsync();
        var repository = PublisherRegistryFixture.UniqueRepository("demo/hello");
        var sha = Sha();
        var tags = PublishTags.For(Now, "production", sha, ["Release/1.0"]);
        var logger = new ListLogger<ImagePublisher>();

        var result = await fixture.Publisher(logger: logger).PublishAsync(image, repository, tags, CancellationToken.None);

        Assert.Equal($"{fixture.Registry.Url}/{repository}", result.Image.Uri);
        Assert.Equal(["2026-11-24-221500-production", sha, "release-1.0"], result.Image.Tags);
        Assert.Matches("^sha256:[0-9a-f]{64}$", result.Image.Digest);
        Assert.Equal(image, result.ImageId);
        Assert.Equal(tags, result.Pushed);
        Assert.Empty(result.AlreadyPresent);
        // The engine pushed once, under the first tag; the registry was given the same manifest under the others.
        Assert.Equal([$"Information: Pushed {result.Image.Uri}:{tags[0]}"], logger.Lines.Where(l => l.Contains(": Pushed ")).Select(l => l[..l.IndexOf(" (", StringComparison.Ordinal)]));
        Assert.Equal(tags.Skip(1).Select(t => $"Information: Tagged {result.Image.Uri}@{result.Image.Digest} as {t}"), logger.Lines.Where(l => l.Contains(": Tagged ")));

        var registry = fixture.RegistryClient();
        foreach (var tag in tags)
        {
            Assert.Equal(result.Image.Digest, await registry.GetManifestDigestAsync(repository, tag));
            Assert.True(await fixture.Registry.HasManifestAsync(repository, tag));
            Assert.Equal(image, (await registry.GetManifestAsync(repository, tag))!.ConfigDigest);
        }
        Assert.Equal(tags.Order(), (await registry.ListTagsAsync(repository)).Order());
        Assert.Null(await registry.GetManifestDigestAsync(repository, "latest"));

        // The registry-qualified local tags were only needed for the push.
        var local = await fixture.Docker.Images.InspectImageAsync(image);
        Assert.DoesNotContain(local.RepoTags, t => t.StartsWith(fixture.Registry.Url + "/", StringComparison.Ordinal));
        Assert.Contains(local.RepoTags, t => t.StartsWith("slipway-test-publisher:", StringComparison.Ordinal));
        Assert.DoesNotContain(logger.Lines, l => l.Contains(fixture.Registry.Password));
    }

    [Fact]
    public async Task Publishing_again_pushes_nothing_and_returns_the_same_result()
    {
        var image = await fixture.CreateImageAsync();
        var repository = PublisherRegistryFixture.UniqueRepository("demo/again");
        var tags = PublishTags.For(Now, "production", Sha(), null);

        var first = await fixture.Publisher().PublishAsync(image, repository, tags, CancellationToken.None);
        var second = await fixture.Publisher().PublishAsync(image, repository, tags, CancellationToken.None);

        Assert.Equal(tags, first.Pushed);
        Assert.Empty(second.Pushed);
        Assert.Equal(tags, second.AlreadyPresent);
        Assert.Equal(first.Image.Digest, second.Image.Digest);
        Assert.Equal(first.Image.Uri, second.Image.Uri);
        Assert.Equal(first.Image.Tags, second.Image.Tags);

        // One tag missing (e.g. a crash between two pushes): only that one is pushed, at the same digest.
        var moreTags = tags.Append("extra-1").ToList();
        var third = await fixture.Publisher().PublishAsync(image, repository, moreTags, CancellationToken.None);
        Assert.Equal(["extra-1"], third.Pushed);
        Assert.Equal(first.Image.Digest, third.Image.Digest);
    }

    [Fact]
    public async Task A_different_image_under_an_existing_tag_is_pushed_over_it()
    {
        var repository = PublisherRegistryFixture.UniqueRepository("demo/over");
        var tags = PublishTags.For(Now, "production", Sha(), null);
        var first = await fixture.Publisher().PublishAsync(await fixture.CreateImageAsync(), repository, tags, CancellationToken.None);
        var second = await fixture.Publisher().PublishAsync(await fixture.CreateImageAsync(), repository, tags, CancellationToken.None);
        Assert.Equal(tags, second.Pushed);
        Assert.NotEqual(first.Image.Digest, second.Image.Digest);
    }

    [Fact]
    public async Task Latest_and_bad_names_are_refused_before_anything_is_pushed()
    {
        var publisher = fixture.Publisher();
        var e = await Assert.ThrowsAsync<ArgumentException>(() => publisher.PublishAsync("unused", "demo/x", ["v1", "latest"], CancellationToken.None));
        Assert.Contains("'latest' is never pushed", e.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => publisher.PublishAsync("unused", "Demo/X", ["v1"], CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => publisher.PublishAsync("unused", "demo/x", [], CancellationToken.None));
    }

    [Fact]
    public async Task A_wrong_password_fails_clearly_and_is_never_logged()
    {
        var image = await fixture.CreateImageAsync();
        var options = new RegistryOptions { Url = fixture.Registry.Url, Username = fixture.Registry.Username, Password = "wrong-password-42" };
        var registryLogger = new ListLogger<RegistryClient>();
        var logger = new ListLogger<ImagePublisher>();
        var publisher = new ImagePublisher(fixture.Docker, fixture.RegistryClient(options, registryLogger), options, logger);

        var e = await Assert.ThrowsAsync<RegistryException>(() =>
            publisher.PublishAsync(image, "demo/denied", PublishTags.For(Now, "production", Sha(), null), CancellationToken.None));

        Assert.Equal($"registry {fixture.Registry.Url} refused the credentials of user '{fixture.Registry.Username}' (401 Unauthorized)", e.Message);
        Assert.True(e.IsAuthenticationFailure);
        Assert.DoesNotContain(registryLogger.Lines.Concat(logger.Lines), l => l.Contains("wrong-password-42"));
        Assert.Null(await fixture.RegistryClient().GetManifestDigestAsync("demo/denied", "2026-11-24-221500-production"));
    }

    [Fact]
    public async Task A_push_error_from_the_engine_fails_with_its_message()
    {
        // The engine pushes with these (wrong) credentials, while the registry client reads with good ones.
        var image = await fixture.CreateImageAsync();
        var bad = new RegistryOptions { Url = fixture.Registry.Url, Username = fixture.Registry.Username, Password = "wrong-password-43" };
        var publisher = new ImagePublisher(fixture.Docker, fixture.RegistryClient(), bad, new ListLogger<ImagePublisher>());

        var e = await Assert.ThrowsAsync<PublishException>(() =>
            publisher.PublishAsync(image, PublisherRegistryFixture.UniqueRepository("demo/pushfail"), ["v1"], CancellationToken.None));

        Assert.StartsWith($"pushing {fixture.Registry.Url}/demo/pushfail-", e.Message);
        Assert.Matches(new Regex("unauthorized|authentication required|denied", RegexOptions.IgnoreCase), e.Message);
        Assert.DoesNotContain("wrong-password-43", e.ToString());
    }

    [Fact]
    public async Task A_missing_local_image_fails_clearly()
    {
        var e = await Assert.ThrowsAsync<PublishException>(() =>
            fixture.Publisher().PublishAsync("sha256:" + new string('0', 64), "demo/missing", ["v1"], CancellationToken.None));
        Assert.Contains("is not on the Docker engine", e.Message);
        Assert.IsType<DockerImageNotFoundException>(e.InnerException);
    }
}
