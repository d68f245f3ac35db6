using Slipway.Publisher;
using Slipway.Publisher.Registry;

namespace Slipway.Tests.Integration.Publisher;

public class PublishTagsTests
{
    private const string Sha = "0123456789abcdef0123456789abcdef01234567";
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 23, 15, 0, TimeSpan.FromHours(1)); // 22:15:00 UTC

    [Fact]
    public void Timestamp_tag_in_utc_then_the_commit_sha_then_sanitized_extras()
    {
        var tags = PublishTags.For(Now, "production", Sha.ToUpperInvariant(), ["Release/1.0", "", "  ", Sha, "release/1.0", "v2"]);
        Assert.Equal(["2026-11-24-221500-production", Sha, "release-1.0", "v2"], tags);
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("LATEST")]
    [InlineData(" Latest ")]
    public void Latest_is_refused(string tag)
    {
        var e = Assert.Throws<ArgumentException>(() => PublishTags.For(Now, "production", Sha, [tag]));
        Assert.Contains("'latest' is never pushed", e.Message);
    }

    [Theory]
    [InlineData(".hidden")]
    [InlineData("-dash")]
    [InlineData("has space")]
    [InlineData("a:b")]
    [InlineData("ümlaut")]
    public void Tags_outside_dockers_grammar_are_refused_clearly(string tag)
    {
        var e = Assert.Throws<ArgumentException>(() => PublishTags.For(Now, "production", Sha, [tag]));
        Assert.Contains("is not a valid Docker tag", e.Message);
    }

    [Fact]
    public void A_tag_of_129_characters_is_refused_and_128_accepted()
    {
        Assert.Equal(new string('a', 128), PublishTags.For(Now, "production", Sha, [new string('a', 128)])[2]);
        Assert.Throws<ArgumentException>(() => PublishTags.For(Now, "production", Sha, [new string('a', 129)]));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0123456789abcdef0123456789abcdef0123456g")]
    [InlineData("")]
    public void The_commit_sha_must_be_a_commit_id(string sha) =>
        Assert.Contains("is not a commit SHA", Assert.Throws<ArgumentException>(() => PublishTags.For(Now, "production", sha, null)).Message);

    [Theory]
    [InlineData("demo/hello-service", null, "demo/hello-service")]
    [InlineData("Demo/Hello-Service", null, "demo/hello-service")]
    [InlineData("demo/hello-service", "hello-service", "hello-service")]
    [InlineData("demo/hello-service", "Hello-Service-API", "hello-service-api")]
    [InlineData("demo/hello-service", "demo/hello-service", "demo-hello-service")]
    [InlineData("demo/hello-service", "demo-hello-service-x", "demo-hello-service-x")]
    public void Repository_names(string project, string? name, string expected) =>
        Assert.Equal(expected, PublishTags.RepositoryName(project, name));

    [Fact]
    public void A_name_not_matching_the_project_is_refused_like_pipelinelib()
    {
        var e = Assert.Throws<ArgumentException>(() => PublishTags.RepositoryName("demo/hello-service", "other"));
        Assert.Contains("must match or be prefixed by the full ('demo-hello-service') or short ('hello-service') project name", e.Message);
        Assert.Throws<ArgumentException>(() => PublishTags.RepositoryName("demo/hello-service", "hello-servicex"));
    }

    [Theory]
    [InlineData("demo/../etc")]
    [InlineData("demo//x")]
    [InlineData("demo/x.")]
    [InlineData("demo/_x")]
    [InlineData("demo/x y")]
    [InlineData("demo/x:1")]
    public void Repository_paths_outside_the_distribution_grammar_are_refused(string project)
    {
        var e = Assert.Throws<ArgumentException>(() => PublishTags.RepositoryName(project, null));
        Assert.Contains("is invalid", e.Message);
    }

    [Fact]
    public void Upper_case_repository_is_refused_by_validation() =>
        Assert.Throws<ArgumentException>(() => PublishTags.ValidateRepository("Demo/x"));

    [Theory]
    [InlineData("2026-11-24-221500-production", "2026-11-24T22:15:00Z")]
    [InlineData("2026-01-02-030405-staging", "2026-01-02T03:04:05Z")]
    [InlineData("2026-13-24-221500-production", null)]
    [InlineData("2026-11-24-221500", null)]
    [InlineData("0123456789abcdef0123456789abcdef01234567", null)]
    [InlineData("v1.0", null)]
    public void Timestamp_of_a_tag(string tag, string? expected) =>
        Assert.Equal(expected is null ? null : DateTimeOffset.Parse(expected), PublishTags.TimestampOf(tag));

    [Fact]
    public void Publisher_options_validate()
    {
        Assert.Empty(new PublisherOptions().Validate());
        Assert.Equal(10, new PublisherOptions().KeepTags);
        Assert.Equal("production", new PublisherOptions().Stage);
        Assert.Contains(new PublisherOptions { KeepTags = 0 }.Validate(), m => m.Contains("KeepTags"));
        Assert.Contains(new PublisherOptions { KeepTags = 1001 }.Validate(), m => m.Contains("KeepTags"));
        Assert.Contains(new PublisherOptions { Stage = "Prod/x" }.Validate(), m => m.Contains("Stage"));
        Assert.Contains(new PublisherOptions { Stage = "latest" }.Validate(), m => m.Contains("latest"));
    }
}
