using Slipway.Builder.Git;

namespace Slipway.Tests.Unit.Builder;

/// <summary>
/// Where a patch set's <c>.gitmodules</c> may make the builder fetch from: resolved as git resolves submodule URLs, then
/// allowed only on the builder's own git server (anonymously) or under an operator's allowed prefix.
/// </summary>
public class SubmoduleSourceTests
{
    private const string Server = "https://gerrit.example.org/r";
    private static readonly SubmoduleSource.Place App = new("mediawiki/services/zotero", null);
    private static readonly string[] Allowed = ["https://github.com/zotero/"];

    [Theory]
    [InlineData("../translators", "https://gerrit.example.org/r/mediawiki/services/translators", "mediawiki/services/translators")]
    [InlineData("../../libs/x.git", "https://gerrit.example.org/r/mediawiki/libs/x", "mediawiki/libs/x")]
    [InlineData("./modules/inner", "https://gerrit.example.org/r/mediawiki/services/zotero/modules/inner", "mediawiki/services/zotero/modules/inner")]
    [InlineData("https://gerrit.example.org/r/mediawiki/libs/y.git", "https://gerrit.example.org/r/mediawiki/libs/y", "mediawiki/libs/y")]
    [InlineData("HTTPS://GERRIT.EXAMPLE.ORG/r/mediawiki/libs/y", "https://gerrit.example.org/r/mediawiki/libs/y", "mediawiki/libs/y")]
    public void A_submodule_on_the_builders_own_server_is_fetched_from_it_by_project(string url, string fetch, string project)
    {
        var source = SubmoduleSource.Resolve(url, App, Server, Allowed);
        Assert.Equal((fetch, project, project), (source.FetchUrl, source.CacheName, source.Location.Project));
    }

    [Fact]
    public void An_allowed_outside_url_is_fetched_as_written_into_a_cache_of_its_own_and_resolves_its_own_relative_urls()
    {
        var source = SubmoduleSource.Resolve("https://github.com/zotero/translators", App, Server, Allowed);
        Assert.Equal("https://github.com/zotero/translators", source.FetchUrl);
        Assert.StartsWith("submodules/", source.CacheName);
        Assert.Equal(new SubmoduleSource.Place(null, "https://github.com/zotero/translators"), source.Location);
        // A nested submodule's relative URL resolves against the outside repository, and must be allowed itself.
        var nested = SubmoduleSource.Resolve("../utilities", source.Location, Server, Allowed);
        Assert.Equal("https://github.com/zotero/utilities", nested.FetchUrl);
        Assert.NotEqual(source.CacheName, nested.CacheName);
    }

    [Theory]
    [InlineData("https://github.com/evil/x", "which is not allowed")]
    [InlineData("https://github.com/zotero/../evil/x", "https://github.com/evil/x, which is not allowed")] // dot segments cannot walk around a prefix
    [InlineData("http://169.254.169.254/latest/meta-data", "which is not allowed")]
    [InlineData("http://127.0.0.1:8080/internal", "which is not allowed")]
    [InlineData("git@github.com:zotero/translators.git", "not an http(s) URL")]
    [InlineData("ssh://git@github.com/zotero/translators", "not an http(s) URL")]
    [InlineData("file:///etc", "not an http(s) URL")]
    [InlineData("/srv/git/private.git", "not an http(s) URL")]
    [InlineData("ext::sh -c id", "spaces or control characters")]
    [InlineData("https://user:secret@github.com/zotero/x", "holds credentials")]
    [InlineData("https://github.com/zotero/x?y=1", "holds credentials, a query")]
    [InlineData("https://github.com/zotero/%2e%2e/evil", "escapes")]
    [InlineData("../../../../x", "climbs above the server's root")]
    [InlineData("", "empty")]
    public void Anything_else_is_refused_with_its_reason(string url, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => SubmoduleSource.Resolve(url, App, Server, Allowed));
        Assert.Contains(reason, e.Message);
        Assert.DoesNotContain("secret", e.Message);
    }

    [Fact]
    public void Without_an_allowed_prefix_only_the_builders_server_is_fetched()
    {
        var e = Assert.Throws<ArgumentException>(() => SubmoduleSource.Resolve("https://github.com/zotero/translators", App, Server, []));
        Assert.Contains("Builder:Submodules:AllowedUrls", e.Message);
        Assert.Contains("`fetch: {submodules: false}`", e.Message);
    }

    [Fact]
    public void A_relative_url_of_a_project_cannot_name_a_path_outside_project_names()
    {
        Assert.Throws<ArgumentException>(() => SubmoduleSource.Resolve("../a/../../../b", App, Server, Allowed));
        Assert.Throws<ArgumentException>(() => SubmoduleSource.Resolve("../x y", App, Server, Allowed));
    }
}
