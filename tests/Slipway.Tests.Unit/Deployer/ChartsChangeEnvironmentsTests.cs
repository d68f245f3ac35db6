using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Slipway.Deployer.ChartsChange;
using Slipway.Hosting;

namespace Slipway.Tests.Unit.Deployer;

/// <summary>
/// <c>Deployer:Promote:Environments</c> bound as the deployer binds it: an operator's list replaces update_version.py's
/// (the binder appends to a list it finds filled), and decides which values files a promote edits.
/// </summary>
public sealed class ChartsChangeEnvironmentsTests
{
    private static ChartsChangeOptions Bind(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(
            settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))).Build();
        var services = new ServiceCollection().AddValidatedOptions<ChartsChangeOptions>(configuration, ChartsChangeOptions.Section);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<ChartsChangeOptions>>().Value;
    }

    private static ChartsChangeRequest Request(params string[] environments) =>
        new("run-1", "production-promote", "hello", environments, "v2", "registry/hello:v2@sha256:" + new string('1', 64), "demo/hello", 1,
            new string('a', 40), DateTimeOffset.UnixEpoch);

    [Fact]
    public void An_operators_environments_replace_the_defaults_and_a_promote_to_all_of_them_edits_values_yaml()
    {
        var options = Bind(("Deployer:Promote:Environments:0", "staging"), ("Deployer:Promote:Environments:1", "production"));
        Assert.Equal(["staging", "production"], options.EffectiveEnvironments);

        using var proposer = new ChartsChangeProposer(options, NullLogger<ChartsChangeProposer>.Instance);
        Assert.Equal(
        [
            ("helmfile.d/services/hello/values.yaml", "v2"),
            ("helmfile.d/services/hello/values-staging.yaml", null),
            ("helmfile.d/services/hello/values-production.yaml", null),
        ], proposer.PlanEdits(Request("production", "staging")));
        Assert.Equal([("helmfile.d/services/hello/values-production.yaml", "v2")], proposer.PlanEdits(Request("production")));
    }

    [Fact]
    public void Without_environments_configured_update_version_pys_apply()
    {
        var options = Bind();
        Assert.Empty(options.Environments);
        Assert.Equal(["staging", "codfw", "eqiad"], options.EffectiveEnvironments);
        using var proposer = new ChartsChangeProposer(options, NullLogger<ChartsChangeProposer>.Instance);
        Assert.Equal(("helmfile.d/services/hello/values.yaml", (string?)"v2"), proposer.PlanEdits(Request("staging", "codfw", "eqiad"))[0]);
        Assert.Equal([("helmfile.d/services/hello/values-staging.yaml", "v2")], proposer.PlanEdits(Request("staging")));
    }
}
