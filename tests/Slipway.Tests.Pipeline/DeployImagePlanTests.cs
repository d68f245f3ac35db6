using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// Which published image a deploy or promote step means: PipelineLib's <c>${&lt;stage&gt;.imageName}</c> /
/// <c>${&lt;stage&gt;.imageTag}</c> (default this stage's own) recorded as the publish step the deployer takes the image from.
/// </summary>
public class DeployImagePlanTests
{
    // Two services published from one repository; line 13 is the deploy's `image:`, line 14 its `tag:`.
    private static PlanningResult PlanTwoImages(string image, string tag) => PlanConfig($"""
        pipelines:
          p:
            blubberfile: blubber.yaml
            stages:
              - name: api
                build: production
                publish: {"{"}image: {"{"}name: foo-api{"}"}{"}"}
              - name: worker
                build: production
                publish: {"{"}image: {"{"}name: foo-worker{"}"}{"}"}
              - name: rollout
                deploy:
                  image: '{image}'
                  tag: '{tag}'
                  chart: {"{"}name: foo{"}"}
            execution:
              - [api, worker, rollout]
        """, TriggerKind.Merge);

    [Theory]
    [InlineData("${api.imageName}", "${api.imageTag}", "api-publish")]
    [InlineData("${api.publishedImage}", "${api.imageTag}", "api-publish")]
    [InlineData("${worker.imageFullName}", "${worker.imageTag}", "worker-publish")]
    public void Deploy_records_the_publish_step_its_image_reference_names(string image, string tag, string publishStep)
    {
        var plan = Single(PlanTwoImages(image, tag));
        Assert.Equal(publishStep, Step(plan, "rollout-deploy").Deploy!.ImageFrom);
    }

    [Fact]
    public void Deploy_defaults_to_its_own_stages_publish()
    {
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: api
                    build: production
                    publish: {image: {name: foo-api}}
                  - name: worker
                    build: production
                    publish: {image: {name: foo-worker}}
                    deploy: {chart: {name: foo}}
                execution:
                  - [api, worker]
            """, TriggerKind.Merge));
        Assert.Equal("worker-publish", Step(plan, "worker-deploy").Deploy!.ImageFrom);
    }

    [Fact]
    public void Promote_records_its_own_stages_publish()
    {
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: api
                    build: production
                    publish: {image: {name: foo-api}}
                    promote: [{environments: [staging]}]
                  - name: worker
                    build: production
                    publish: {image: {name: foo-worker}}
                execution:
                  - [api, worker]
            """, TriggerKind.Merge));
        Assert.Equal("api-publish", Step(plan, "api-promote").Promote!.ImageFrom);
    }

    [Fact]
    public void Image_and_tag_of_different_stages_are_refused_at_the_tag()
    {
        var refusal = Assert.Single(PlanTwoImages("${api.imageName}", "${worker.imageTag}").Refused);
        Assert.Equal("pipeline `p`: stage `rollout`: `deploy.image` names stage `api`'s published image but `deploy.tag` names stage `worker`'s: "
            + "both must name the same published image", refusal.Message);
        Assert.Equal(14, refusal.Line);
    }

    [Fact]
    public void A_stage_that_publishes_nothing_is_refused_naming_key_and_line()
    {
        var refusal = Assert.Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - name: api
                    build: production
                  - name: rollout
                    deploy:
                      image: '${api.imageName}'
                      tag: '${api.imageTag}'
                      chart: {name: foo}
                execution:
                  - [api, rollout]
            """, TriggerKind.Merge).Refused);
        Assert.Equal("pipeline `p`: stage `rollout`: `deploy.image` (`${api.imageName}`) names stage `api`'s published image, but stage `api` "
            + "publishes no image (no `publish.image`); Slipway deploys only images it published", refusal.Message);
        Assert.Equal(9, refusal.Line);
    }

    [Fact]
    public void The_default_reference_of_a_stage_without_publish_is_refused_at_the_deploy()
    {
        var refusal = Assert.Single(PlanConfig("""
            pipelines:
              p:
                stages:
                  - name: rollout
                    deploy: {chart: {name: foo}}
            """, TriggerKind.Merge).Refused);
        Assert.Equal("pipeline `p`: stage `rollout`: `deploy.image` (`${.imageName}`) names stage `rollout`'s published image, but stage `rollout` "
            + "publishes no image (no `publish.image`); Slipway deploys only images it published", refusal.Message);
        Assert.Equal(5, refusal.Line);
    }
}
