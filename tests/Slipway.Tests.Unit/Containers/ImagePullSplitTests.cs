using Slipway.Containers;

namespace Slipway.Tests.Unit.Containers;

/// <summary>What a pull asks the engine for: the repository and the tag or digest, a registry's port never taken for a tag.</summary>
public sealed class ImagePullSplitTests
{
    [Theory]
    [InlineData("debian:bookworm", "debian", "bookworm")]
    [InlineData("127.0.0.1:5000/slipway/debian:bookworm", "127.0.0.1:5000/slipway/debian", "bookworm")]
    [InlineData("127.0.0.1:5000/slipway/debian", "127.0.0.1:5000/slipway/debian", null)]
    [InlineData("registry.example/team/app@sha256:0123abcd", "registry.example/team/app", "sha256:0123abcd")]
    [InlineData("app", "app", null)]
    public void An_image_reference_splits_into_repository_and_tag_or_digest(string image, string repository, string? reference) =>
        Assert.Equal((repository, reference), ImagePull.Split(image));
}
