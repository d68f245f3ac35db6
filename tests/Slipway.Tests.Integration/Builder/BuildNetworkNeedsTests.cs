using Slipway.BuildConfig;

namespace Slipway.Tests.Integration.Builder;

/// <summary>Which builds get (the compiler's <c>NeedsNetwork</c>, which the builder asks) the mirror-only network and which get none: anything that installs, in the target or a stage it copies from.</summary>
public sealed class BuildNetworkNeedsTests
{
    [Theory]
    [InlineData("variants:\n  test:\n    copies: [local]\n    entrypoint: [./run]\n", false)]
    [InlineData("runs:\n  environment: { GREETING: hi }\nvariants:\n  test: {}\n", false)]
    [InlineData("apt: { packages: [curl] }\nvariants:\n  test: {}\n", true)]
    [InlineData("variants:\n  test:\n    apt: { packages: { bookworm-backports: [curl] } }\n", true)]
    [InlineData("variants:\n  test:\n    node: { requirements: [package.json] }\n", true)]
    [InlineData("variants:\n  test:\n    python: { version: python3, requirements: [requirements.txt] }\n", true)]
    [InlineData("variants:\n  test:\n    builder: { command: [make] }\n", true)]
    [InlineData("variants:\n  test:\n    builders:\n      - custom: { command: [make] }\n", true)]
    [InlineData("variants:\n  build:\n    builder: { command: [make] }\n  test:\n    copies: [build]\n", true)]
    [InlineData("variants:\n  build:\n    builder: { command: [make] }\n  test:\n    copies: [local]\n", false)]
    [InlineData("variants:\n  base:\n    apt: { packages: [curl] }\n  test:\n    includes: [base]\n", true)]
    public void A_build_needs_the_mirrors_only_when_it_installs(string variants, bool installs)
    {
        var yaml = "version: v4\nbase: 127.0.0.1:5000/slipway/debian:bookworm\n" + variants;
        Assert.Equal(installs, Blubber.Compile(yaml, "test").NeedsNetwork);
    }
}
