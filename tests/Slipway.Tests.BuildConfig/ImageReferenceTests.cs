using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

/// <summary>Image references split as the Docker engine splits them: the registry is a host and port, never a string prefix.</summary>
public class ImageReferenceTests
{
    [Theory]
    [InlineData("registry.example.org/slipway/debian:bookworm", "registry.example.org", "slipway/debian", "bookworm", null)]
    [InlineData("registry.example.org:5000/debian", "registry.example.org:5000", "debian", null, null)]
    [InlineData("127.0.0.1:5000/slipway/debian:bookworm", "127.0.0.1:5000", "slipway/debian", "bookworm", null)]
    [InlineData("localhost/x", "localhost", "x", null, null)]
    [InlineData("localhost:5000/x:1", "localhost:5000", "x", "1", null)]
    [InlineData("Registry.Example.ORG/x", "registry.example.org", "x", null, null)] // host names are case-insensitive
    [InlineData("debian", "docker.io", "library/debian", null, null)]
    [InlineData("debian:bookworm", "docker.io", "library/debian", "bookworm", null)]
    [InlineData("registry/x", "docker.io", "registry/x", null, null)] // no '.' or ':': a Docker Hub user, not a host
    [InlineData("docker.io/debian", "docker.io", "library/debian", null, null)]
    [InlineData("index.docker.io/library/debian", "docker.io", "library/debian", null, null)]
    [InlineData("registry.example.org.evil.com/x", "registry.example.org.evil.com", "x", null, null)]
    [InlineData("registry.example.org/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "registry.example.org", "x", null, "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("evil.com/registry.example.org:1", "evil.com", "registry.example.org", "1", null)]
    public void Splits_registry_repository_tag_and_digest(string reference, string registry, string repository, string? tag, string? digest)
    {
        var parsed = ImageReference.TryParse(reference);
        Assert.NotNull(parsed);
        Assert.Equal(new ImageReference(registry, repository, tag, digest), parsed);
    }

    [Theory]
    [InlineData("registry.example.org@evil/x")]
    [InlineData("https://registry.example.org/x")]
    [InlineData("registry.example.org/X")]
    [InlineData("registry.example.org/x y")]
    [InlineData("")]
    [InlineData("/x")]
    [InlineData("registry.example.org/x@sha256:short")]
    public void Invalid_references_are_not_parsed(string reference) => Assert.Null(ImageReference.TryParse(reference));

    [Theory]
    // allowed registry, image, same registry?
    [InlineData("registry.example.org", "registry.example.org/slipway/debian:bookworm", true)]
    [InlineData("registry.example.org", "REGISTRY.example.org/x", true)]
    [InlineData("registry.example.org", "registry.example.org.evil.com/x", false)]
    [InlineData("registry.example.org", "evil.com/registry.example.org/x", false)]
    [InlineData("registry.example.org", "registry.example.org:5000/x", false)]
    [InlineData("registry.example.org:5000", "registry.example.org:5000/x", true)]
    [InlineData("registry.example.org:5000", "registry.example.org:5001/x", false)]
    [InlineData("registry.example.org:5000", "registry.example.org/x", false)]
    [InlineData("127.0.0.1:5000", "127.0.0.1:50001/x", false)]
    [InlineData("https://127.0.0.1:5000/", "127.0.0.1:5000/x", true)]
    [InlineData("registry.example.org", "debian:bookworm", false)]
    [InlineData("registry.example.org", "registry.example.org/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("docker.io", "debian", true)]
    [InlineData("docker.io", "index.docker.io/library/debian", true)]
    public void A_registry_matches_by_exact_host_and_port(string allowed, string image, bool expected)
    {
        var registry = ImageReference.NormalizeRegistryEntry(allowed);
        Assert.NotNull(registry);
        Assert.Equal(expected, ImageReference.TryParse(image)!.IsFrom(registry));
    }

    [Theory]
    [InlineData("registry.example.org/path")]
    [InlineData("user@registry.example.org")]
    [InlineData("")]
    [InlineData("bad host")]
    public void Bad_registry_entries_are_refused(string entry) => Assert.Null(ImageReference.NormalizeRegistryEntry(entry));
}
