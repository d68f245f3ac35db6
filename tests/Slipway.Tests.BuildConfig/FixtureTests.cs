using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

/// <summary>Real-world-style configs (Fixtures/*.yaml) against their exact, reviewed Dockerfiles.</summary>
public class FixtureTests
{
    private static string Fixtures => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    [Theory]
    [InlineData("node-service", "test")]
    [InlineData("node-service", "production")]
    [InlineData("python-service", "test")]
    [InlineData("python-service", "production")]
    [InlineData("copies-from-variant", "test")]
    [InlineData("copies-from-variant", "production")]
    public void Fixture_compiles_to_its_expected_dockerfile(string name, string variant)
    {
        var yaml = File.ReadAllText(Path.Combine(Fixtures, name + ".yaml"));
        var expected = File.ReadAllText(Path.Combine(Fixtures, $"{name}.{variant}.Dockerfile"));
        var options = T.Options with { ContextFiles = Blubber.ListContext(Path.Combine(Fixtures, "ctx")) };
        Assert.Equal(expected, T.Df(yaml, variant, options: options));
    }

    [Fact]
    public void Context_listing_applies_dockerignore()
    {
        var dir = Directory.CreateTempSubdirectory("blubber-ctx-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "src"));
            Directory.CreateDirectory(Path.Combine(dir.FullName, ".git"));
            foreach (var f in new[] { "README.md", "src/a.js", "src/a.swp", ".git/HEAD", "keep.md" })
                File.WriteAllText(Path.Combine(dir.FullName, f), "x");
            File.WriteAllText(Path.Combine(dir.FullName, ".dockerignore"), "/README.md\n.git\n**/*.swp\n*.md\n!keep.md\n");
            Assert.Equal([".dockerignore", "keep.md", "src/a.js"], Blubber.ListContext(dir.FullName));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("node_modules", "node_modules/a/b.js", true)]
    [InlineData("/README.md", "README.md", true)]
    [InlineData("*.md", "docs/x.md", false)]
    [InlineData("**/*.md", "docs/x.md", true)]
    [InlineData("docs/**", "docs/a/b", true)]
    [InlineData("src/?.js", "src/a.js", true)]
    [InlineData("src/[ab].js", "src/c.js", false)]
    public void Dockerignore_patterns(string pattern, string path, bool excluded)
    {
        Assert.Equal(excluded, new DockerIgnore([pattern]).Excludes(path));
    }
}
