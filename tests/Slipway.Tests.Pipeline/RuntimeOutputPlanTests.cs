using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// PipelineLib's runtime outputs in the fields resolved at run time (<c>run.arguments</c>, <c>run.env</c>,
/// <c>trigger.parameters</c>, <c>notify.email</c>): the plan keeps the text with the references as written and a checked
/// template naming the step whose result holds each value; everything else is refused with the key and its line.
/// </summary>
public class RuntimeOutputPlanTests
{
    private const string Config = """
        pipelines:
          p:
            blubberfile: blubber.yaml
            stages:
              - name: lint
                build: lint
                run: {tail: 2}
                exports:
                  said: 'lint said ${.output}'
              - name: publish
                build: production
                publish:
                  image: {tag: 'v-${setup.commit}'}
              - name: check
                build: test
                run:
                  arguments: ['--lint=${lint.output}', plain, '${publish.imageTag}']
                  env:
                    IMAGE: '${publish.publishedImage}'
                    SAID: '${lint.said}'
                    OR: '${lint.output|nothing}'
                    ID: 'sha256:${lint.imageID}'
                notify:
                  email:
                    to: [team@example.org]
                    body: 'check failed: ${.output}'
                trigger:
                  name: deploy-job
                  parameters:
                    TAG: '${publish.imageTag}'
                    WHERE: '${publish.imageFullName}'
                    ALL: '${publish.imageTags}'
                    NAME: 'name=${publish.imageName} local=${check.imageLocalName}'
            execution:
              - [lint, check]
              - [publish, check]
        """;

    private static RuntimeTemplatePart T(string text) => new() { Text = text };

    private static RuntimeTemplatePart O(string stage, string name, string step, string? dflt = null) =>
        new() { Output = new RuntimeOutputReference { Stage = stage, Name = name, Step = step, Default = dflt } };

    private static void AssertTemplate(PlanStep step, string key, params RuntimeTemplatePart[] parts) =>
        Assert.Equal(parts, step.Runtime![key].Parts);

    [Fact]
    public void Runtime_outputs_are_kept_as_written_with_a_template_naming_the_step_that_produces_each()
    {
        var plan = Single(PlanConfig(Config, TriggerKind.Merge));
        var run = Step(plan, "check-run");
        Assert.Equal(["--lint=${lint.output}", "plain", "${publish.imageTag}"], run.Run!.Arguments!);
        Assert.Equal("lint said ${lint.output}", run.Run.Env!["SAID"]);
        Assert.Equal(
            ["run.arguments[0]", "run.arguments[2]", "run.env.ID", "run.env.IMAGE", "run.env.OR", "run.env.SAID"],
            run.Runtime!.Keys.Order(StringComparer.Ordinal));
        AssertTemplate(run, "run.arguments[0]", T("--lint="), O("lint", "output", "lint-run"));
        AssertTemplate(run, "run.arguments[2]", O("publish", "imageTag", "publish-publish"));
        AssertTemplate(run, "run.env.IMAGE", O("publish", "publishedImage", "publish-publish"));
        AssertTemplate(run, "run.env.SAID", T("lint said "), O("lint", "output", "lint-run")); // through an export
        AssertTemplate(run, "run.env.OR", O("lint", "output", "lint-run", "nothing"));
        AssertTemplate(run, "run.env.ID", T("sha256:"), O("lint", "imageID", "lint-build"));

        var trigger = Step(plan, "check-trigger");
        Assert.Equal("${publish.imageTag}", trigger.Trigger!.Parameters!["TAG"]);
        AssertTemplate(trigger, "trigger.parameters.TAG", O("publish", "imageTag", "publish-publish"));
        AssertTemplate(trigger, "trigger.parameters.WHERE", O("publish", "imageFullName", "publish-publish"));
        AssertTemplate(trigger, "trigger.parameters.ALL", O("publish", "imageTags", "publish-publish"));
        AssertTemplate(trigger, "trigger.parameters.NAME",
            T("name="), O("publish", "imageName", "publish-publish"), T(" local="), O("check", "imageLocalName", "check-build"));

        var notify = plan.Stages.Single(s => s.Name == "check").Notify!;
        Assert.Equal("check failed: ${check.output}", notify.Body);
        Assert.Equal([O("check", "output", "check-run")], notify.Runtime!["body"].Parts.Skip(1));
        Assert.False(notify.Runtime.ContainsKey("subject"));

        Assert.Equal("v-" + Sha, Step(plan, "publish-publish").Publish!.Tag);
        Assert.Null(Step(plan, "lint-run").Runtime);
    }

    [Fact]
    public void A_list_comprehension_over_a_runtime_output_is_kept_for_the_run_as_pipelinelib_expands_it_when_the_stage_runs()
    {
        // PipelineLib's own system test (test-list-comprehensions): the arguments come from the earlier stage's output.
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - {name: sequence, build: test, run: {arguments: ['1', '5'], tail: 5}}
                  - name: square
                    build: test
                    run:
                      arguments:
                        $each: [a, b]
                        $in: 'x ${sequence.output}'
                        $delimiter: ';'
                        $yield: '${.a}*${.b} (${setup.pipeline}) ${sequence.imageID}'
            """, TriggerKind.Merge));
        var run = Step(plan, "square-run");
        Assert.Null(run.Run!.Arguments);
        Assert.Null(run.Runtime);
        var each = run.Run.ArgumentsEach!;
        Assert.Equal(["a", "b"], each.Each);
        Assert.Equal(";", each.Delimiter);
        Assert.Equal([T("x "), O("sequence", "output", "sequence-run")], each.In.Parts);
        Assert.Equal(
            [new RuntimeTemplatePart { Local = "a" }, T("*"), new RuntimeTemplatePart { Local = "b" }, T(" (p) "), O("sequence", "imageID", "sequence-build")],
            each.Yield.Parts);
    }

    /// <summary>PipelineLib interpolates build.excludes when the stage runs: a runtime output there is resolved by the builder.</summary>
    [Fact]
    public void Build_excludes_over_a_runtime_output_are_kept_for_the_builder_and_a_stage_not_after_it_is_refused()
    {
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - {name: list, build: test, run: {tail: 3}}
                  - name: each
                    build:
                      variant: production
                      excludes: {$each: f, $in: '${list.output}', $yield: 'gen/${.f}'}
                  - name: items
                    build: {variant: production, context: ., excludes: [node_modules, '${list.output}', 'x-${setup.pipeline}']}
                execution:
                  - [list, each]
                  - [list, items]
            """));
        var each = Step(plan, "each-build");
        Assert.Null(each.Build!.Excludes);
        Assert.Null(each.Runtime);
        Assert.Equal(["f"], each.Build.ExcludesEach!.Each);
        Assert.Equal([O("list", "output", "list-run")], each.Build.ExcludesEach.In.Parts);
        Assert.Equal([T("gen/"), new RuntimeTemplatePart { Local = "f" }], each.Build.ExcludesEach.Yield.Parts);

        var items = Step(plan, "items-build");
        Assert.Equal(["node_modules", "${list.output}", "x-p"], items.Build!.Excludes);
        Assert.Equal(["build.excludes[1]"], items.Runtime!.Keys);
        Assert.Equal([O("list", "output", "list-run")], items.Runtime["build.excludes[1]"].Parts);

        var refused = Assert.Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - {name: list, build: test, run: true}
                  - {name: early, build: {variant: production, excludes: ['${list.output}']}}
                execution:
                  - [list]
                  - [early]
            """).Refused);
        Assert.Equal("pipeline `p`: stage `early`: cannot access 'list.*' values since 'early' does not follow it in the graph 'digraph { list; early }'", refused.Message);
    }

    [Fact]
    public void Publish_tags_as_a_list_comprehension_over_a_runtime_output_are_kept_for_the_publisher_to_expand()
    {
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - {name: versions, build: test, run: {tail: 3}}
                  - name: prod
                    build: production
                    publish:
                      image:
                        tag: stable
                        tags:
                          $each: v
                          $in: '${versions.output}'
                          $yield: 'v${.v}-${.stage}'
            """, TriggerKind.Merge));
        var publish = Step(plan, "prod-publish").Publish!;
        Assert.Equal(["stable"], publish.Tags); // the primary tag; the written list is the comprehension
        var each = publish.TagsEach!;
        Assert.Equal(["v"], each.Each);
        Assert.Equal([O("versions", "output", "versions-run")], each.In.Parts);
        Assert.Equal([T("v"), new RuntimeTemplatePart { Local = "v" }, T("-prod")], each.Yield.Parts);
        // Without a runtime value the comprehension is expanded at planning, as before.
        var planned = Single(PlanConfig("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: prod\n        build: production\n"
            + "        publish: {image: {tags: {$each: v, $in: 'a|b', $delimiter: '|', $yield: 'x-${.v}'}}}\n", TriggerKind.Merge));
        Assert.Null(Step(planned, "prod-publish").Publish!.TagsEach);
        Assert.Equal(["x-a", "x-b"], Step(planned, "prod-publish").Publish!.Tags);
    }

    [Fact]
    public void Publish_name_tag_and_tag_items_holding_runtime_outputs_are_kept_for_the_publisher_to_resolve()
    {
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - {name: version, build: test, run: {tail: 1}}
                  - name: prod
                    build: production
                    publish:
                      image:
                        name: '${setup.projectShortName}-${version.output}'
                        tag: 'v${version.output}'
                        tags: [stable, '${version.output}', Latest, 'img-${version.imageID}', stable]
            """, TriggerKind.Merge));
        var step = Step(plan, "prod-publish");
        Assert.Equal("foo-${version.output}", step.Publish!.Name);
        Assert.Equal("v${version.output}", step.Publish.Tag);
        // The primary first, duplicates and a written `latest` dropped; each runtime item keyed by its place in the list.
        Assert.Equal(["v${version.output}", "stable", "${version.output}", "img-${version.imageID}"], step.Publish.Tags);
        Assert.Equal(["publish.image.name", "publish.image.tag", "publish.image.tags[0]", "publish.image.tags[2]", "publish.image.tags[3]"],
            step.Runtime!.Keys.Order(StringComparer.Ordinal));
        AssertTemplate(step, "publish.image.name", T("foo-"), O("version", "output", "version-run"));
        AssertTemplate(step, "publish.image.tag", T("v"), O("version", "output", "version-run"));
        AssertTemplate(step, "publish.image.tags[0]", T("v"), O("version", "output", "version-run"));
        AssertTemplate(step, "publish.image.tags[2]", O("version", "output", "version-run"));
        AssertTemplate(step, "publish.image.tags[3]", T("img-"), O("version", "imageID", "version-build"));
    }

    [Fact]
    public void Notify_recipients_holding_runtime_outputs_are_kept_as_written_with_their_templates()
    {
        var plan = Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                notify: {email: {to: ['team@example.org, ops@example.org', '${owners.output}']}}
                stages:
                  - {name: owners, build: test, run: {tail: 1}}
                  - name: check
                    build: test
                    run: true
                  - name: each
                    build: test
                    run: true
                    notify:
                      email:
                        to: {$each: who, $in: '${owners.output}', $yield: '${.who}@example.org'}
            """, TriggerKind.Merge));
        var check = plan.Stages.Single(s => s.Name == "check").Notify!;
        Assert.Equal(["team@example.org", "ops@example.org", "${owners.output}"], check.To);
        Assert.Equal(["to[2]"], check.Runtime!.Keys);
        Assert.Equal([O("owners", "output", "owners-run")], check.Runtime["to[2]"].Parts);
        Assert.Null(check.ToEach);
        var each = plan.Stages.Single(s => s.Name == "each").Notify!;
        Assert.Empty(each.To);
        Assert.Equal(["who"], each.ToEach!.Each);
        Assert.Equal([O("owners", "output", "owners-run")], each.ToEach.In.Parts);
        Assert.Equal([new RuntimeTemplatePart { Local = "who" }, T("@example.org")], each.ToEach.Yield.Parts);
    }

    [Theory]
    [InlineData("$each: n\n            $in: '${later.output}'", "cannot access 'later.*' values since 'square' does not follow it in the graph")]
    [InlineData("$each: n\n            $in: '${sequence.output}'\n            $yield: [x]", "a `$yield` over a runtime `$in` must be a string, not a list")]
    [InlineData("$each: n\n            $in: '${sequence.output}'\n            $delimiter: ''", "`$delimiter` must not be empty")]
    public void A_list_comprehension_over_a_runtime_output_is_refused_where_pipelinelib_fails_too(string comprehension, string message)
    {
        var refusal = Assert.Single(PlanConfig($$$"""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - {name: sequence, build: test, run: {tail: 5}}
                  - name: square
                    build: test
                    run:
                      arguments:
                        {{{comprehension}}}
                  - {name: later, build: test}
            """, TriggerKind.Merge).Refused);
        Assert.Contains(message, refusal.Message);
    }

    [Fact]
    public void A_deploy_stages_release_name_is_refused_saying_why()
    {
        var refusal = Assert.Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - {name: candidate, build: production, publish: {image: true}}
                  - name: rehearsal
                    deploy: {chart: {name: foo}, image: '${candidate.imageName}', tag: '${candidate.imageTag}', test: false}
                  - {name: after, build: test, run: {env: {R: '${rehearsal.releaseName}'}}}
            """, TriggerKind.Merge).Refused);
        Assert.Equal("pipeline `p`: stage `after`: `run.env.R` uses `${rehearsal.releaseName}`: not supported; PipelineLib's value is the random " +
            "name of a throwaway Helm release it purged at the pipeline's end, while Slipway's `deploy` rolls out a named service that outlives " +
            "the run, so there is no such release to name", refusal.Message);
    }

    private static PlanningResult PlanStage(string stageYaml) => PlanConfig(
        "pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: a\n        build: test\n        run: {tail: 5}\n      - name: s\n" + stageYaml,
        TriggerKind.Merge);

    // Line 8 is `- name: s`; the stage's own keys start at line 9.
    [Theory]
    [InlineData("        build: test\n        run:\n          env: {C: 'x ${a.container}'}\n",
        "`run.env.C` uses `${a.container}`: Slipway keeps no container after a run step (the tester removes it once the step and its `copy` are done), so there is no container name to use", 11)]
    [InlineData("        build: test\n        run:\n          env: {X: '${a.imageTag}'}\n",
        "no value bound for 'a.imageTag'; all available variables are: [setup.pipeline, setup.project, setup.projectShortName, setup.commit, setup.branch, setup.remote, setup.logURL, setup.GIT_COMMIT, setup.GIT_URL, setup.GIT_BRANCH, setup.GIT_LOCAL_BRANCH, setup.tag, setup.timestamp, setup.imageLabels, a.stage, a.imageID, a.imageLocalName, a.container, a.output, s.stage, s.imageID, s.imageLocalName]", 11)]
    [InlineData("        build: test\n        run:\n          env: {X: '${.output}'}\n",
        "no value bound for 's.output'; all available variables are: [setup.pipeline, setup.project, setup.projectShortName, setup.commit, setup.branch, setup.remote, setup.logURL, setup.GIT_COMMIT, setup.GIT_URL, setup.GIT_BRANCH, setup.GIT_LOCAL_BRANCH, setup.tag, setup.timestamp, setup.imageLabels, a.stage, a.imageID, a.imageLocalName, a.container, a.output, s.stage, s.imageID, s.imageLocalName]", 11)]
    [InlineData("        exports: {e: 'x ${a.output}'}\n        notify: {email: {to: t@example.org, body: '${.e|d}'}}\n",
        "`notify.email.body` uses `${a.output}`, which is known only while the run executes; Slipway plans the whole run before it starts and cannot use it there", 10)]
    [InlineData("        trigger: {name: j, parameters: {P: {$merge: '${a.output}', $with: x}}}\n",
        "`trigger` uses `${a.output}`, which is known only while the run executes; Slipway plans the whole run before it starts and cannot use it there", 9)]
    [InlineData("        notify: {email: {to: [{$merge: ['${a.output}'], $with: [x@example.org]}]}}\n",
        "`notify.email.to` uses `${a.output}`, which is known only while the run executes; Slipway plans the whole run before it starts and cannot use it there", 9)]
    [InlineData("        build: production\n        publish: {image: true}\n        promote: [{chart: foo, environments: ['${a.output}']}]\n",
        "`promote` uses `${a.output}`, which is known only while the run executes; which charts and environments a run changes, and whether an " +
        "approver must agree first, are fixed in the plan the approver sees, and an earlier step's output is made by the run's own code, so Slipway cannot use it there", 11)]
    public void Runtime_outputs_elsewhere_are_refused_naming_the_key_and_line(string stageYaml, string message, int line)
    {
        var refusal = Assert.Single(PlanStage(stageYaml).Refused);
        Assert.Equal($"pipeline `p`: stage `s`: {message}", refusal.Message);
        Assert.Equal(line, refusal.Line);
    }

    [Fact]
    public void A_stage_that_does_not_precede_is_refused_with_pipelinelibs_ancestor_message()
    {
        var refusal = Assert.Single(PlanConfig("""
            pipelines:
              p:
                blubberfile: blubber.yaml
                stages:
                  - {name: a, build: test, run: {tail: 1}}
                  - {name: b, build: test, run: {env: {X: 'from ${a.output}'}}}
                execution: [[a], [b]]
            """, TriggerKind.Merge).Refused);
        Assert.Equal("pipeline `p`: stage `b`: cannot access 'a.*' values since 'b' does not follow it in the graph 'digraph { a; b }'", refusal.Message);
    }
}
