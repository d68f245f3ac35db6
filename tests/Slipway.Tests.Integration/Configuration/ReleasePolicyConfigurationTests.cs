using Microsoft.Extensions.Configuration;
using Slipway.Builder.Runs;
using Slipway.Deployer;

namespace Slipway.Tests.Integration.Configuration;

/// <summary>
/// The release policy's keys as operators write them (environment-variable style, bound like the services bind them):
/// which environments need approval, release branches, service owners, rollback stages; bad values are refused at start-up.
/// </summary>
public sealed class ReleasePolicyConfigurationTests
{
    private static IConfiguration Config(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))).Build();

    private static ReleasePolicyOptions Policy(params (string, string)[] pairs) => Config(pairs).Get<ReleasePolicyOptions>() ?? new ReleasePolicyOptions();

    private static DeployerOptions Deployer(params (string, string)[] pairs) =>
        Config(pairs).GetSection(DeployerOptions.Section).Get<DeployerOptions>() ?? new DeployerOptions();

    [Fact]
    public void Production_needs_approval_by_default_in_the_builder_and_the_deployer()
    {
        Assert.Equal(["production"], Policy().ApprovalEnvironments());
        Assert.True(Policy().ToPlanningOptions().RequiresApproval("production"));
        Assert.False(Policy().ToPlanningOptions().RequiresApproval("staging"));
        Assert.True(Deployer().RequiresApproval("production"));
        Assert.False(Deployer().RequiresApproval("staging"));
        Assert.Equal([10, 50, 100], Deployer().RolloutPercentages("production"));
        Assert.Equal([100], Deployer().RolloutPercentages("staging"));
    }

    [Fact]
    public void One_key_per_environment_turns_approval_on_or_off_for_both_services()
    {
        (string, string)[] keys = [("Deployer:Environments:staging:RequiresApproval", "true"), ("Deployer:Environments:production:RequiresApproval", "false")];
        Assert.Equal(["staging"], Policy(keys).ApprovalEnvironments());
        Assert.True(Deployer(keys).RequiresApproval("staging"));
        Assert.False(Deployer(keys).RequiresApproval("production"));
        Assert.Equal([10, 50, 100], Deployer(keys).RolloutPercentages("staging"));
    }

    [Fact]
    public void Only_approvers_tokens_count_as_approvers()
    {
        var options = Deployer(("Deployer:Approvers:0", "release-manager"), ("Deployer:ApiTokens:0123456789abcdef0123", "operator"));
        Assert.True(options.IsApprover("production", "release-manager"));
        // Exact, as Gerrit approvals are: a user name differing only in case is another account.
        Assert.False(options.IsApprover("production", "Release-Manager"));
        Assert.False(options.IsApprover("production", "operator"));
        Assert.False(options.IsApprover("production", null));
    }

    [Fact]
    public void The_artifact_base_url_reaches_the_planner_and_a_bad_one_is_refused_at_start_up()
    {
        Assert.Null(Policy().ToPlanningOptions().ArtifactBaseUrl);
        var good = Policy(("Pipeline:ArtifactBaseUrl", "https://ci.example.org/slipway/"));
        Assert.Empty(good.Validate());
        Assert.Equal("https://ci.example.org/slipway", good.ToPlanningOptions().ArtifactBaseUrl);
        foreach (var bad in new[] { "ci.example.org", "ftp://ci.example.org", "https://ci.example.org/?a=1", "https://ci.example.org/#x", "https://u:p@ci.example.org" })
            Assert.Equal($"Pipeline:ArtifactBaseUrl '{bad}' is invalid (want http(s)://host[:port][/path], without query, fragment or credentials)",
                Assert.Single(Policy(("Pipeline:ArtifactBaseUrl", bad)).Validate()));
    }

    [Fact]
    public void Release_branches_and_service_owners_reach_the_planner()
    {
        var planning = Policy(("Pipeline:ReleaseBranches:0", "release"), ("Pipeline:ServiceOwners:billing", "ops/billing")).ToPlanningOptions();
        Assert.Equal(["release"], planning.ReleaseBranches);
        Assert.Equal("ops/billing", planning.ServiceOwners!["billing"]);
        Assert.Equal(["master", "main"], Policy().ToPlanningOptions().ReleaseBranches);
    }

    [Fact]
    public void Bad_values_are_refused_with_the_key_named()
    {
        Assert.Equal(
        [
            "Pipeline:ReleaseBranches: 'refs/heads/x' is not a branch short name (e.g. master)",
            "Pipeline:ServiceOwners: 'Bad Name' is not a service name (lowercase letters, digits, '-')",
        ], Policy(("Pipeline:ReleaseBranches:0", "refs/heads/x"), ("Pipeline:ServiceOwners:Bad Name", "ops/x")).Validate());
        Assert.Contains("Deployer:Environments:production:Rollout must be at most 10 increasing percentages from 1 to 100, ending with 100",
            Deployer(("Deployer:Environments:production:Rollout:0", "50"), ("Deployer:Environments:production:Rollout:1", "10")).Validate());
    }
}
