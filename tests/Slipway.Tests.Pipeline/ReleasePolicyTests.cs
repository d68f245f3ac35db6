using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// Issue 10, "only approvers change production", at planning: promote and deploy into an environment that needs approval
/// wait for it; a run touches only its own project's services; only release branches publish, deploy and promote.
/// </summary>
public class ReleasePolicyTests
{
    private const string PromoteToProduction = """
        pipelines:
          p:
            blubberfile: blubber.yaml
            stages:
              - name: production
                build: production
                publish: {image: true}
                promote:
                  - environments: [staging, production]
        """;

    private static PlanningContext Branch(string branch, TriggerKind trigger = TriggerKind.Merge) =>
        new(trigger, "mediawiki/services/foo", branch, Sha, Now);

    private static PlanningResult PlanOn(PlanningContext context, string config, PlanningOptions? options = null) =>
        RunPlanner.Plan(p => p switch { ".pipeline/config.yaml" => config, ".pipeline/blubber.yaml" => Blubber, _ => null }, context, options);

    private static PlanningContext Tag(string tag) => new(TriggerKind.RefUpdate, "mediawiki/services/foo", null, Sha, Now, "refs/tags/" + tag);

    [Fact]
    public void A_new_tag_releases_as_PipelineLibs_publish_pipeline_did_and_publishes_under_its_name()
    {
        // config.yaml: `${setup.tag}` is the tag's name, PipelineLib's default extra tag; deploy and promote stay.
        var config = Single(PlanOn(Tag("v2.0.1"), PromoteToProduction));
        Assert.Null(config.Notes);
        Assert.Equal(["v2.0.1"], Step(config, "production-publish").Publish!.Tags);
        Assert.Equal(["staging", "production"], Step(config, "production-promote").Promote!.Environments);

        // The canonical flow publishes under the tag's name (sanitized as PipelineLib did) and deploys as a merge.
        var canonical = Single(RunPlanner.Plan(p => p == ".pipeline/blubber.yaml" ? Blubber : null, Tag("Release/2.0"), null));
        Assert.Equal(["release-2.0"], Step(canonical, "publish").Publish!.Tags);
        Assert.Equal(["build-test", "run-test", "build-production", "smoke", "publish", "deploy-staging", "deploy-production"],
            canonical.Stages.SelectMany(st => st.Steps).Select(st => st.Name));

        // A tag named `latest` names no build, and `v1+build` is no Docker tag: the image is published under its timestamp and
        // commit only, and the plan says why.
        foreach (var name in new[] { "latest", "v1+build" })
        {
            var plan = Single(RunPlanner.Plan(p => p == ".pipeline/blubber.yaml" ? Blubber : null, Tag(name), null));
            Assert.Null(Step(plan, "publish").Publish!.Tags);
            Assert.Equal([$"tag `{name}` is not published as an image tag (`latest`, or not a Docker tag: letters, digits, '_', '.', '-', at most 128): the image is published under its timestamp and commit"],
                plan.Notes);
        }
    }

    [Fact]
    public void A_publish_whose_tags_are_all_empty_pushes_nothing_as_PipelineLib_and_says_so()
    {
        // Blubber's own config (2022): publish only under a tag. PipelineLib's `publish` drops the empty tags and, with none
        // left, pushes nothing; Slipway used to push its timestamp and SHA tags on every merge.
        const string tagOnly = """
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: gateway
                    build: production
                    publish:
                      image:
                        name: foo-gateway
                        tag: '${setup.tag}'
            """;
        var merge = Single(PlanOn(Branch("master"), tagOnly));
        Assert.Equal(["gateway-build"], merge.Stages.SelectMany(st => st.Steps).Select(st => st.Name));
        Assert.Equal(["stage `gateway`: `publish.image` (line 9): every tag is empty on this run (`tag` `${setup.tag}`), so nothing is published, as PipelineLib publishes nothing then"],
            merge.Notes);

        // A tag's run publishes under the tag's name.
        var tag = Single(PlanOn(Tag("v1.2"), tagOnly));
        Assert.Equal("v1.2", Step(tag, "gateway-publish").Publish!.Tag);
        Assert.Null(tag.Notes);

        // An empty tag beside a written one still publishes (the written one, with the timestamp and SHA).
        var both = Single(PlanOn(Branch("master"), tagOnly.Replace("tag: '${setup.tag}'", "tag: '${setup.tag}'\n            tags: [stable]")));
        Assert.Equal(["stable"], Step(both, "gateway-publish").Publish!.Tags);

        // Groovy's `?:` in PipelineLib's defaultConfig: a written `tag: ''` or `tags: []` is false, so the default applies
        // (the timestamp tag; `${setup.tag}`), before anything is interpolated.
        var emptyTag = Single(PlanOn(Branch("master"), tagOnly.Replace("tag: '${setup.tag}'", "tag: ''")));
        Assert.Equal("2026-03-04-050607-gateway", Step(emptyTag, "gateway-publish").Publish!.Tag);
        Assert.Null(emptyTag.Notes);
        var emptyTags = Single(PlanOn(Branch("master"), tagOnly.Replace("tag: '${setup.tag}'", "tag: '${setup.tag}'\n            tags: []")));
        Assert.Equal(["gateway-build"], emptyTags.Stages.SelectMany(st => st.Steps).Select(st => st.Name));
        // `promote[].chart ?: '${setup.projectShortName}'`: a written '' is the project's own chart.
        var promote = Single(PlanOn(Branch("master"), PromoteToProduction.Replace("- environments:", "- chart: ''\n            environments:")));
        Assert.Equal("foo", Step(promote, "production-promote").Promote!.Chart);
    }

    [Fact]
    public void With_release_tags_off_a_tag_builds_and_tests_only_and_says_why()
    {
        var options = PlanningOptions.Default with { ReleaseTags = false };
        var config = Single(PlanOn(Tag("v2.0.1"), PromoteToProduction, options));
        Assert.Equal(["production-build"], config.Stages.SelectMany(st => st.Steps).Select(st => st.Name));
        Assert.Equal(["tag `v2.0.1`: tags do not release here (Pipeline:ReleaseTags is off): this run builds and tests only; it publishes, deploys and promotes nothing"],
            config.Notes);
    }

    [Fact]
    public void A_promote_into_production_waits_for_its_approval_and_not_for_staging()
    {
        var promote = Step(Single(PlanConfig(PromoteToProduction, TriggerKind.Merge)), "production-promote");
        Assert.Equal(["staging", "production"], promote.Promote!.Environments);
        Assert.Equal(["production"], promote.Promote.RequiresApprovalFor);
        Assert.Equal(["production"], promote.EnvironmentsNeedingApproval());
    }

    [Fact]
    public void Approval_is_configurable_per_environment_for_promote_and_deploy()
    {
        var options = PlanningOptions.Default with { ApprovalEnvironments = new HashSet<string> { "staging", "ci" } };
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: production
                    build: production
                    publish: {image: true}
                    promote:
                      - environments: [staging, production]
                    deploy:
                      chart: {name: foo}
            """, TriggerKind.Merge, options));
        Assert.Equal(["staging"], Step(plan, "production-promote").Promote!.RequiresApprovalFor);
        Assert.True(Step(plan, "production-deploy").Deploy!.RequiresApproval);

        var canonical = Single(Plan(new Dictionary<string, string> { [".pipeline/blubber.yaml"] = Blubber }, TriggerKind.Merge, options));
        Assert.True(Step(canonical, "deploy-staging").Deploy!.RequiresApproval);
        Assert.False(Step(canonical, "deploy-production").Deploy!.RequiresApproval);
    }

    [Fact]
    public void A_promote_into_environments_that_need_no_approval_does_not_wait()
    {
        var plan = Single(PlanConfig(PromoteToProduction.Replace("[staging, production]", "[staging]"), TriggerKind.Merge));
        Assert.Null(Step(plan, "production-promote").Promote!.RequiresApprovalFor);
        Assert.Empty(Step(plan, "production-promote").EnvironmentsNeedingApproval());
    }

    [Theory]
    [InlineData("promote:\n                  - chart: bar\n                    environments: [production]", "promote[0].chart")]
    [InlineData("deploy:\n                  chart: {name: bar}", "deploy.chart.name")]
    public void Naming_another_projects_service_is_refused_at_planning(string action, string field)
    {
        var error = Error(PlanConfig($"""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: production
                    build: production
                    publish: {"{"}image: true{"}"}
                    {action}
            """, TriggerKind.Merge));
        Assert.Equal($"pipeline `p`: stage `production`: `{field}` names service `bar`, which project `mediawiki/services/foo` does not own: "
            + "it is not `foo`, the service named after this project, nor mapped to this project by the operator; "
            + "a run deploys and promotes only its own project's services", error);
    }

    [Fact]
    public void A_service_the_operator_maps_to_another_project_is_refused_even_when_named_after_this_one()
    {
        var options = PlanningOptions.Default with { ServiceOwners = new Dictionary<string, string> { ["foo"] = "operations/foo" } };
        var error = Error(PlanConfig(PromoteToProduction, TriggerKind.Merge, options));
        Assert.Equal("pipeline `p`: stage `production`: `promote[0].chart` names service `foo`, which project `mediawiki/services/foo` does not own: "
            + "it belongs to project `operations/foo` (operator's service owners); a run deploys and promotes only its own project's services", error);
    }

    [Fact]
    public void The_owner_derives_from_the_projects_last_path_segment_or_the_mapping()
    {
        var owners = new Dictionary<string, string> { ["shared-cache"] = "ops/cache" };
        Assert.True(ServiceOwnership.Owns("mediawiki/services/foo", "foo", null));
        Assert.False(ServiceOwnership.Owns("other/foo-x", "foo", null));
        Assert.True(ServiceOwnership.Owns("ops/cache", "shared-cache", owners));
        Assert.True(ServiceOwnership.Owns("/ops/cache/", "shared-cache", owners));
        Assert.False(ServiceOwnership.Owns("ops/shared-cache", "shared-cache", owners));
    }

    [Fact]
    public void A_merge_on_a_non_release_branch_builds_and_tests_only_with_a_note()
    {
        var canonical = Single(RunPlanner.Plan(p => p == ".pipeline/blubber.yaml" ? Blubber : null, Branch("feature/x")));
        Assert.Equal(["build-test", "run-test", "build-production", "smoke"], canonical.Stages.SelectMany(s => s.Steps).Select(s => s.Name));
        Assert.Equal(["branch `feature/x` is not a release branch (master, main): this run builds and tests only; it publishes, deploys and promotes nothing"],
            canonical.Notes);

        var config = Single(PlanOn(Branch("feature/x", TriggerKind.RefUpdate), PromoteToProduction));
        Assert.Equal(["production-build"], config.Stages.SelectMany(s => s.Steps).Select(s => s.Name));
        Assert.Single(config.Notes!);
    }

    [Fact]
    public void A_non_release_branch_is_still_refused_for_another_projects_service()
    {
        var error = Error(PlanOn(Branch("feature"), """
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: production
                    build: production
                    publish: {image: true}
                    promote:
                      - chart: bar
                        environments: [production]
            """));
        Assert.Contains("names service `bar`, which project `mediawiki/services/foo` does not own", error);
    }

    [Theory]
    [InlineData("master")]
    [InlineData("main")]
    [InlineData("refs/heads/master")]
    public void The_default_release_branches_publish_and_deploy(string branch)
    {
        var plan = Single(RunPlanner.Plan(p => p == ".pipeline/blubber.yaml" ? Blubber : null, Branch(branch)));
        Assert.Null(plan.Notes);
        Assert.Contains(plan.Stages.SelectMany(s => s.Steps), s => s.Kind == StepKind.Publish);
        Assert.Contains(plan.Stages.SelectMany(s => s.Steps), s => s.Kind == StepKind.Deploy);
    }

    [Fact]
    public void Release_branches_are_configurable()
    {
        var options = PlanningOptions.Default with { ReleaseBranches = ["release"] };
        Assert.Contains(Single(PlanOn(Branch("release"), PromoteToProduction, options)).Stages[0].Steps, s => s.Kind == StepKind.Promote);
        Assert.DoesNotContain(Single(PlanOn(Branch("master"), PromoteToProduction, options)).Stages[0].Steps, s => s.Kind == StepKind.Promote);
    }

    [Fact]
    public void A_patchset_plan_has_no_note()
    {
        Assert.Null(Single(Plan(new Dictionary<string, string> { [".pipeline/blubber.yaml"] = Blubber })).Notes);
    }
}
