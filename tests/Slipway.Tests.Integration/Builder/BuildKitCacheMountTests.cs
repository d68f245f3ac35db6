using System.Formats.Tar;
using System.Text;
using Slipway.Builder.Building.BuildKit;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// Cache mounts under the ids the builder's <see cref="CacheScope"/> gives (the compiler writes
/// <c>slipway/SCOPE/ID</c>): what one build of a project leaves in its cache, the next build of that project sees;
/// a build of another project with the same cache name starts empty. Real engine, real BuildKit, through
/// <see cref="EngineBuildApi"/> (the builder's own call).
/// </summary>
public sealed class BuildKitCacheMountTests
{
    [Fact]
    public void Scopes_are_distinct_per_project_and_hold_no_slash()
    {
        var scopes = new[] { "a/b", "a_b", "a-b", "A/B", "a/b/" }.Select(CacheScope.For).ToList();
        Assert.Equal(scopes.Count, scopes.Distinct().Count());
        Assert.All(scopes, s => Assert.DoesNotContain('/', s));
        Assert.Equal(CacheScope.For("mediawiki/services/x"), CacheScope.For("mediawiki/services/x"));
        Assert.StartsWith("mediawiki_services_x-", CacheScope.For("mediawiki/services/x"));
    }

    [Fact]
    public async Task A_cache_mount_persists_across_builds_of_one_project_and_is_never_shared_with_another()
    {
        await using var scope = new DockerTestScope();
        using var api = new EngineBuildApi(new Uri(BuilderTestEnvironment.DockerEndpoint));
        var projectA = $"team/service-a-{scope.Id}";
        var projectB = $"team/service-b-{scope.Id}";

        var first = await BuildAsync(api, scope, projectA, "one");
        var second = await BuildAsync(api, scope, projectA, "two");
        var other = await BuildAsync(api, scope, projectB, "three");

        Assert.Equal("seen: (empty)", first);
        Assert.Equal("seen: one", second);
        Assert.Equal("seen: (empty)", other);
    }

    /// <summary>Builds a step that prints what the project's cache holds, then adds <paramref name="run"/> to it.</summary>
    private static async Task<string> BuildAsync(EngineBuildApi api, DockerTestScope scope, string project, string run)
    {
        var id = $"slipway/{CacheScope.For(project)}/deps";
        var dockerfile = $"""
            FROM {ImageBuildFixture.Base}
            RUN --mount=type=cache,id={id},target=/cache,sharing=locked \
                echo "seen: $(cat /cache/runs 2>/dev/null || echo '(empty)')" > /seen && echo {run} >> /cache/runs
            """;
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Gnu, leaveOpen: true))
            writer.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, "Dockerfile")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(dockerfile)), Mode = (UnixFileMode)0b110_100_100,
            });
        tar.Position = 0;
        string? imageId = null, error = null;
        await api.BuildAsync(new EngineBuildQuery
        {
            Dockerfile = "Dockerfile", Tags = [scope.Tag(run)], Labels = scope.Labels, NetworkMode = "none",
        }, tar, null, m =>
        {
            if (m.TryGetProperty("id", out var i) && i.GetString() == "moby.image.id") imageId = m.GetProperty("aux").GetProperty("ID").GetString();
            if (m.TryGetProperty("error", out var e)) error = e.GetString();
        }, CancellationToken.None);
        Assert.Null(error);
        Assert.NotNull(imageId);
        var (exit, output) = await scope.RunAsync(imageId!, ["cat", "/seen"]);
        Assert.Equal(0, exit);
        return output.Trim();
    }
}
