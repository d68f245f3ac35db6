using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// PipelineLib's <c>run.credentials</c>: planned (ids and variable names, never values) only for runs after merge and
/// for the projects the operator allows each credential; refused otherwise, naming the key and its line.
/// </summary>
public class CredentialsPlanTests
{
    private static readonly PlanningOptions Options = PlanningOptions.Default with
    {
        Credentials = new Dictionary<string, IReadOnlyList<string>>
        {
            ["npm-token"] = ["mediawiki/services/foo"], ["other-team"] = ["other/project"],
        },
    };

    private static PlanningResult PlanRun(string run, TriggerKind trigger) => PlanConfig(
        "pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        build: test\n        run:\n" + run, trigger, Options);

    [Theory]
    [InlineData(TriggerKind.Merge)]
    [InlineData(TriggerKind.RefUpdate)]
    public void An_allowed_credential_is_planned_by_id_and_variable_after_merge(TriggerKind trigger)
    {
        var plan = Single(PlanRun("          credentials: [{id: npm-token, name: NPM_TOKEN}]\n", trigger));
        var run = plan.Stages.Single().Steps.Single(s => s.Kind == StepKind.Test).Run!;
        var credential = Assert.Single(run.Credentials!);
        Assert.Equal(("npm-token", "NPM_TOKEN"), (credential.Id, credential.Name));
    }

    [Theory]
    [InlineData(TriggerKind.Patchset)]
    [InlineData(TriggerKind.Recheck)]
    public void A_patch_set_run_never_gets_a_credential(TriggerKind trigger)
    {
        var refusal = Assert.Single(PlanRun("          credentials: [{id: npm-token, name: NPM_TOKEN}]\n", trigger).Refused);
        Assert.Equal("pipeline `p`: stage `s`: `run.credentials`: credentials are given only to runs after merge, never to a patch set's run " +
            "(run this pipeline post-merge, or leave it out of patch-set runs)", refusal.Message);
        Assert.Equal(8, refusal.Line);
    }

    [Theory]
    [InlineData("          credentials: [{id: other-team, name: T}]\n",
        "Invalid Credential: 'other-team'. Allowed credentials for mediawiki/services/foo: [npm-token] (the operator allows them per project: Pipeline:Credentials:<id>:Projects)")]
    [InlineData("          credentials: [{id: nope, name: T}]\n",
        "Invalid Credential: 'nope'. Allowed credentials for mediawiki/services/foo: [npm-token] (the operator allows them per project: Pipeline:Credentials:<id>:Projects)")]
    [InlineData("          credentials: [{id: npm-token, name: 'A=B'}]\n",
        "`run.credentials[].name` 'A=B' is not an environment variable name (letters, digits, '_', at most 128)")]
    [InlineData("          credentials: [{id: npm-token, name: T}, {id: npm-token, name: T}]\n", "`run.credentials`: the variable 'T' is bound twice")]
    public void A_credential_not_allowed_or_malformed_is_refused(string run, string message)
    {
        var refusal = Assert.Single(PlanRun(run, TriggerKind.Merge).Refused);
        Assert.Equal($"pipeline `p`: stage `s`: {message}", refusal.Message);
    }
}
