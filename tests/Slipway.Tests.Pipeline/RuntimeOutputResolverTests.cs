using System.Text.Json;
using Slipway.Contracts;
using Slipway.Runs;

namespace Slipway.Tests.Pipeline;

/// <summary>
/// The resolver every performing service uses for runtime outputs: each value as PipelineLib's <c>PipelineStage</c> bound
/// it, taken from the recorded finishing events; a resolved value is data (never interpolated again), bounded, and a
/// masked output stays masked.
/// </summary>
public class RuntimeOutputResolverTests
{
    private const string ImageHex = "1111111111111111111111111111111111111111111111111111111111111111";

    private static readonly RunPlan Plan = new()
    {
        Pipeline = "p",
        Stages =
        [
            new PlanStage
            {
                Name = "lint",
                Steps =
                [
                    new PlanStep { Name = "lint-build", Kind = StepKind.Build, Build = new BuildParams { Variant = "lint" } },
                    new PlanStep { Name = "lint-run", Kind = StepKind.Test, Run = new RunParams { Tail = 2 } },
                ],
            },
            new PlanStage
            {
                Name = "quiet",
                Steps = [new PlanStep { Name = "quiet-run", Kind = StepKind.Test, Run = new RunParams() }],
            },
            new PlanStage
            {
                Name = "publish",
                Steps = [new PlanStep { Name = "publish-publish", Kind = StepKind.Publish, Publish = new PublishParams() }],
            },
        ],
        Graph = [],
    };

    private static readonly Dictionary<string, JsonElement> Results = new()
    {
        ["lint-build"] = Json(new BuildSucceeded
        {
            Variant = "lint", Project = "p", Revision = new string('a', 40), ImageId = "sha256:" + ImageHex, ImageRef = "slipway/p:run-1-lint-build",
        }),
        ["lint-run"] = Json(new TestSucceeded { ImageId = "sha256:" + ImageHex, ExitCode = 0, OutputTail = "token **** ok\n${setup.project} ${lint.output}" }),
        ["quiet-run"] = Json(new TestSucceeded { ImageId = "sha256:" + ImageHex, ExitCode = 0, OutputTail = "the default 50 lines" }),
        ["publish-publish"] = Json(new PublishSucceeded
        {
            ImageId = "sha256:" + ImageHex, Name = "foo", Tag = "v1",
            Image = new ContainerImage { Uri = "registry.example.org/foo", Tags = ["2026-03-04-050607-publish", new string('a', 40), "v1"], Digest = "sha256:" + ImageHex },
        }),
    };

    private static JsonElement Json<T>(T e) => JsonSerializer.SerializeToElement(e, ContractJson.Options);

    private static RuntimeTemplatePart O(string stage, string name, string step, string? dflt = null) =>
        new() { Output = new RuntimeOutputReference { Stage = stage, Name = name, Step = step, Default = dflt } };

    private static string Resolve(params RuntimeTemplatePart[] parts) =>
        RuntimeOutputResolver.Resolve(new RuntimeTemplate { Parts = parts }, "run.env.X", "run-1", Plan, s => Results.TryGetValue(s, out var d) ? d : null);

    [Theory]
    [InlineData("output", "lint-run", "token **** ok\n${setup.project} ${lint.output}\n")] // tail lines + "\n", masked, literal
    [InlineData("imageID", "lint-build", ImageHex)]
    [InlineData("imageLocalName", "lint-build", "slipway/p:run-1-lint-build")]
    [InlineData("imageName", "publish-publish", "foo")]
    [InlineData("imageFullName", "publish-publish", "registry.example.org/foo")]
    [InlineData("imageTag", "publish-publish", "v1")]
    [InlineData("publishedImage", "publish-publish", "registry.example.org/foo:v1")]
    [InlineData("imageTags", "publish-publish", "[2026-03-04-050607-publish, aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, v1]")]
    public void Each_output_is_what_pipelinelib_bound(string name, string step, string expected) =>
        Assert.Equal(expected, Resolve(O(step.Split('-')[0], name, step)));

    [Fact]
    public void Text_and_outputs_are_joined_and_a_step_without_tail_gives_an_empty_output_or_the_default()
    {
        Assert.Equal("tag=v1;", Resolve(new RuntimeTemplatePart { Text = "tag=" }, O("publish", "imageTag", "publish-publish"), new RuntimeTemplatePart { Text = ";" }));
        Assert.Equal("", Resolve(O("quiet", "output", "quiet-run")));
        Assert.Equal("none", Resolve(O("quiet", "output", "quiet-run", "none")));
        Assert.Equal("v1", Resolve(O("publish", "imageTag", "publish-publish", "none")));
    }

    private static RuntimeComprehension Each(string delimiter, string[] names, params RuntimeTemplatePart[] yield) => new()
    {
        Each = names, Delimiter = delimiter, In = new RuntimeTemplate { Parts = [O("lint", "output", "lint-run")] }, Yield = new RuntimeTemplate { Parts = yield },
    };

    private static IReadOnlyList<string> Expand(RuntimeComprehension c) =>
        RuntimeOutputResolver.Expand(c, "run.arguments", "run-1", Plan, s => Results.TryGetValue(s, out var d) ? d : null);

    [Fact]
    public void A_comprehension_over_an_output_is_expanded_per_token_as_pipelinelib_tokenizes_it()
    {
        // lint-run's output is "token **** ok\n${setup.project} ${lint.output}\n": tokenized on "\n" (empty tokens dropped).
        Assert.Equal(["<token **** ok>", "<${setup.project} ${lint.output}>"],
            Expand(Each("\n", ["n"], new RuntimeTemplatePart { Text = "<" }, new RuntimeTemplatePart { Local = "n" }, new RuntimeTemplatePart { Text = ">" })));
        // Several names: each token split on spaces; a resolved value is data, never interpolated again.
        Assert.Equal(["token=****", "${setup.project}=${lint.output}"],
            Expand(Each("\n", ["k", "v"], new RuntimeTemplatePart { Local = "k" }, new RuntimeTemplatePart { Text = "=" }, new RuntimeTemplatePart { Local = "v" })));
        Assert.Equal(["token", "****", "ok", "${setup.project}", "${lint.output}"], Expand(Each(" \n", ["w"], new RuntimeTemplatePart { Local = "w" })));
    }

    [Fact]
    public void A_comprehension_with_too_few_values_or_an_unbound_variable_fails_the_step()
    {
        var e = Assert.Throws<RuntimeOutputException>(() => Expand(Each("\n", ["a", "b", "c"], new RuntimeTemplatePart { Local = "a" })));
        Assert.Equal("`run.arguments`: insufficient number of values given ([${setup.project}, ${lint.output}]) to bind to variables ([a, b, c])", e.Message);
        e = Assert.Throws<RuntimeOutputException>(() => Expand(Each("\n", ["a"], new RuntimeTemplatePart { Local = "z" })));
        Assert.Equal("`run.arguments`: `${.z}` is bound only inside a list comprehension", e.Message);
    }

    [Fact]
    public void A_missing_result_is_an_error_or_empty_for_a_notice()
    {
        var template = new RuntimeTemplate { Parts = [O("late", "output", "late-run")] };
        var e = Assert.Throws<RuntimeOutputException>(() => RuntimeOutputResolver.Resolve(template, "trigger.parameters.A", "run-1", Plan, _ => null));
        Assert.Equal("`trigger.parameters.A`: `${late.output}` has no value: step `late-run` recorded no result for it", e.Message);
        Assert.Equal("", RuntimeOutputResolver.Resolve(template, "body", "run-1", Plan, _ => null, missingAsEmpty: true));
    }

    [Fact]
    public void A_resolved_value_is_bounded_and_never_holds_a_nul()
    {
        var parts = Enumerable.Repeat(new RuntimeTemplatePart { Text = new string('x', 300) }, 219).ToArray(); // 65700 characters
        var e = Assert.Throws<RuntimeOutputException>(() => Resolve(parts));
        Assert.Equal("`run.env.X`: the resolved value is longer than 65536 characters", e.Message);
        Assert.Equal(65_400, Resolve(parts[..218]).Length);
        var nul = Assert.Throws<RuntimeOutputException>(() => RuntimeOutputResolver.Resolve(new RuntimeTemplate { Parts = [O("lint", "output", "lint-run")] },
            "run.env.X", "run-1", Plan, _ => Json(new TestSucceeded { ImageId = "sha256:" + ImageHex, ExitCode = 0, OutputTail = "a\0b" })));
        Assert.Equal("`run.env.X`: the resolved value contains a NUL character", nul.Message);
    }

    [Fact]
    public void Artifact_urls_give_one_line_per_copy_entry_as_pipelinelib_with_every_path_segment_encoded()
    {
        RunCopy[] copies =
        [
            new() { Source = "/srv/report.txt", Destination = "out/report.txt", Archive = true },   // a file
            new() { Source = "/srv/notes.txt", Destination = "notes.txt" },                         // not archived: empty line
            new() { Source = "/srv/dist", Destination = "build/dist/", Archive = true },            // a directory's contents
            new() { Source = "/srv/site", Destination = "site", Archive = true },                   // a directory: no file listed at `site`
            new() { Source = "/srv/h", Destination = "we ird/a b#c?d%25é\r\nx.txt", Archive = true }, // hostile names
            new() { Source = "/srv/all", Destination = "./", Archive = true },                      // the workspace root
        ];
        var plan = new RunPlan
        {
            Pipeline = "p", Graph = [],
            Stages = [new PlanStage { Name = "make", Steps = [new PlanStep { Name = "make-run", Kind = StepKind.Test, Run = new RunParams { Copy = copies } }] }],
        };
        var succeeded = Json(new TestSucceeded
        {
            ImageId = "sha256:" + ImageHex, ExitCode = 0,
            Artifacts = new[] { "out/report.txt", "build/dist/a.js", "site/index.html", "we ird/a b#c?d%25é\r\nx.txt", "x" }
                .Select(p => new RunArtifact { Path = p, SizeBytes = 1, Sha256 = new string('0', 64) }).ToList(),
        });
        var template = new RuntimeTemplate
        {
            Parts = [new() { Output = new RuntimeOutputReference { Stage = "make", Name = "artifactURLs", Step = "make-run", ArtifactBaseUrl = "https://ci.example.org/s/" } }],
        };
        var links = RuntimeOutputResolver.Resolve(template, "run.env.X", "run-7", plan, s => s == "make-run" ? succeeded : null);
        const string Base = "https://ci.example.org/s/runs/run-7/artifacts/make/";
        Assert.Equal(string.Join('\n',
            Base + "out/report.txt",
            "",
            Base + "build/dist.tar.gz",
            Base + "site.tar.gz",
            Base + "we%20ird/a%20b%23c%3Fd%2525%C3%A9%0D%0Ax.txt",
            Base + ".tar.gz"), links);
        Assert.Equal(6, links.Split('\n').Length); // no name adds a line
        // The link's path decodes back to the file's path; no `#` or `?` ends it early.
        var hostile = new Uri(links.Split('\n')[4]);
        Assert.Equal(("", ""), (hostile.Query, hostile.Fragment));
        Assert.Equal("/s/runs/run-7/artifacts/make/we ird/a b#c?d%25é\r\nx.txt", Uri.UnescapeDataString(hostile.AbsolutePath));

        var missing = Assert.Throws<RuntimeOutputException>(() => RuntimeOutputResolver.Resolve(template, "run.env.X", "run-7", plan, _ => null));
        Assert.Equal("`run.env.X`: `${make.artifactURLs}` has no value: step `make-run` recorded no result for it", missing.Message);
        // A failed run step copied nothing: its failure notice gets no links.
        var failed = Json(new TestFailed { ImageId = "sha256:" + ImageHex, ExitCode = 1, Reason = "tests exited with code 1" });
        Assert.Equal("", RuntimeOutputResolver.Resolve(template, "body", "run-7", plan, _ => failed, missingAsEmpty: true));
    }

    [Fact]
    public void Artifact_urls_of_a_stage_copied_for_by_an_earlier_run_step_list_its_group_and_its_files_only()
    {
        var plan = new RunPlan
        {
            Pipeline = "p", Graph = [],
            Stages =
            [
                new PlanStage
                {
                    Name = "make", Steps = [new PlanStep { Name = "make-run", Kind = StepKind.Test, Run = new RunParams
                    {
                        Copy = [new RunCopy { Source = "/srv/mine", Destination = "mine", Archive = true }],
                        CopyFor = [new StageCopy { Stage = "take", Copy = [
                            new RunCopy { Source = "/srv/report.txt", Destination = "out/report.txt", Archive = true },
                            new RunCopy { Source = "/srv/dist", Destination = "dist", Archive = true }] }],
                    } }],
                },
                new PlanStage { Name = "take", Steps = [] },
            ],
        };
        var succeeded = Json(new TestSucceeded
        {
            ImageId = "sha256:" + ImageHex, ExitCode = 0,
            Artifacts =
            [
                new RunArtifact { Path = "mine", SizeBytes = 1, Sha256 = new string('0', 64) },            // make's own file
                new RunArtifact { Path = "out/report.txt", SizeBytes = 1, Sha256 = new string('0', 64), Stage = "take" },
                new RunArtifact { Path = "dist", SizeBytes = 1, Sha256 = new string('0', 64) },            // make's, not take's
            ],
        });
        var template = new RuntimeTemplate
        {
            Parts = [new() { Output = new RuntimeOutputReference { Stage = "take", Name = "artifactURLs", Step = "make-run", ArtifactBaseUrl = "https://ci.example.org/s/" } }],
        };
        var links = RuntimeOutputResolver.Resolve(template, "run.env.X", "run-7", plan, s => s == "make-run" ? succeeded : null);
        Assert.Equal("https://ci.example.org/s/runs/run-7/artifacts/take/out/report.txt\nhttps://ci.example.org/s/runs/run-7/artifacts/take/dist.tar.gz", links);
    }

    [Fact]
    public void A_field_without_a_template_keeps_its_planned_text()
    {
        var run = new RunState("run-1", new RunStarted
        {
            Plan = Plan, StartedAt = DateTimeOffset.UnixEpoch,
            Trigger = new RunTrigger { Kind = TriggerKind.Merge, Project = "p", Ref = "refs/heads/main", Revision = new string('a', 40) },
        }, Results.ToDictionary(r => r.Key, r => new StepRecord(StepOutcome.Succeeded, 1, 1, r.Value)), new Dictionary<string, string>(), null);
        var runtime = new Dictionary<string, RuntimeTemplate> { ["run.env.A"] = new() { Parts = [O("publish", "imageTag", "publish-publish")] } };
        Assert.Equal("${publish.imageTag}-as-planned", RuntimeOutputResolver.Field("${publish.imageTag}-as-planned", "run.env.B", runtime, run));
        Assert.Equal("v1", RuntimeOutputResolver.Field("${publish.imageTag}", "run.env.A", runtime, run));
    }

    [Fact]
    public void A_failure_notice_gets_the_failed_steps_output_and_empty_for_what_never_ran()
    {
        var failed = Json(new TestFailed { ImageId = "sha256:" + ImageHex, ExitCode = 1, Reason = "tests exited with code 1", OutputTail = "FAIL: test_x" });
        var run = new RunState("run-1", new RunStarted
        {
            Plan = Plan, StartedAt = DateTimeOffset.UnixEpoch,
            Trigger = new RunTrigger { Kind = TriggerKind.Merge, Project = "p", Ref = "refs/heads/main", Revision = new string('a', 40) },
        }, new Dictionary<string, StepRecord> { ["lint-run"] = new(StepOutcome.Failed, 1, 1, failed) }, new Dictionary<string, string>(), null);
        var notify = new StageNotify
        {
            To = ["team@example.org"], Subject = "${lint.output} failed", Body = "output:\n${lint.output}tag ${publish.imageTag}.",
            Runtime = new Dictionary<string, RuntimeTemplate>
            {
                ["subject"] = new() { Parts = [O("lint", "output", "lint-run"), new RuntimeTemplatePart { Text = " failed" }] },
                ["body"] = new()
                {
                    Parts = [new RuntimeTemplatePart { Text = "output:\n" }, O("lint", "output", "lint-run"), new RuntimeTemplatePart { Text = "tag " },
                        O("publish", "imageTag", "publish-publish"), new RuntimeTemplatePart { Text = "." }],
                },
            },
        };
        var (to, subject, body) = NotifyText.Resolve(notify, run);
        Assert.Equal(["team@example.org"], to);
        Assert.Equal(("FAIL: test_x  failed", "output:\nFAIL: test_x\ntag ."), (subject, body));
    }

    [Fact]
    public void A_failure_notices_recipients_from_outputs_are_split_on_commas_and_white_space_deduplicated_and_bounded()
    {
        var tooLong = new string('x', 250) + "@example.org";
        var owners = Json(new TestFailed
        {
            ImageId = "sha256:" + ImageHex, ExitCode = 1, Reason = "tests exited with code 1",
            OutputTail = $"a@example.org, b@example.org\nA@example.org\t{tooLong}\n",
        });
        var run = new RunState("run-1", new RunStarted
        {
            Plan = Plan, StartedAt = DateTimeOffset.UnixEpoch,
            Trigger = new RunTrigger { Kind = TriggerKind.Merge, Project = "p", Ref = "refs/heads/main", Revision = new string('a', 40) },
        }, new Dictionary<string, StepRecord> { ["lint-run"] = new(StepOutcome.Failed, 1, 1, owners) }, new Dictionary<string, string>(), null);
        var notify = new StageNotify
        {
            To = ["team@example.org", "${lint.output}", "${publish.imageTag}@example.org"], Subject = "s", Body = "b",
            Runtime = new Dictionary<string, RuntimeTemplate>
            {
                ["to[1]"] = new() { Parts = [O("lint", "output", "lint-run")] },
                // publish never ran: empty, so only "@example.org" is left, which the reporter's domain check leaves out
                ["to[2]"] = new() { Parts = [O("publish", "imageTag", "publish-publish"), new RuntimeTemplatePart { Text = "@example.org" }] },
            },
            ToEach = new RuntimeComprehension
            {
                Each = ["who"], Delimiter = "\n",
                In = new() { Parts = [O("lint", "output", "lint-run")] },
                Yield = new() { Parts = [new RuntimeTemplatePart { Local = "who" }] },
            },
        };
        var (to, _, _) = NotifyText.Resolve(notify, run);
        Assert.Equal(["team@example.org", "a@example.org", "b@example.org", "@example.org"], to);

        // More than 50 from an output: the first 50 are kept.
        var many = Json(new TestFailed
        {
            ImageId = "sha256:" + ImageHex, ExitCode = 1, Reason = "r", OutputTail = string.Join(",", Enumerable.Range(0, 80).Select(i => $"u{i}@example.org")),
        });
        var crowded = run with { Steps = new Dictionary<string, StepRecord> { ["lint-run"] = new(StepOutcome.Failed, 1, 1, many) } };
        var (bounded, _, _) = NotifyText.Resolve(notify with { ToEach = null }, crowded);
        Assert.Equal(50, bounded.Count);
        Assert.Equal(["team@example.org", "u0@example.org"], bounded.Take(2));
    }

    [Fact]
    public void Copy_paths_holding_runtime_outputs_are_resolved_and_checked_as_written_ones_and_artifact_urls_list_the_resolved_destinations()
    {
        var imageId = new RuntimeTemplate { Parts = [new() { Text = "/srv/" }, O("make", "imageID", "make-build"), new() { Text = "/report.txt" }] };
        var step = new PlanStep
        {
            Name = "make-run", Kind = StepKind.Test,
            Run = new RunParams
            {
                Copy = [new() { Source = "/srv/${.imageID}/report.txt", Destination = "/srv/${.imageID}/report.txt", Archive = true }, new() { Source = "/srv/x", Destination = "x" }],
            },
            Runtime = new Dictionary<string, RuntimeTemplate> { ["copy[0].source"] = imageId, ["copy[0].destination"] = imageId },
        };
        var plan = new RunPlan { Pipeline = "p", Graph = [], Stages = [new PlanStage { Name = "make", Steps = [step] }] };
        BuildSucceeded Built(string imageRef) => new() { Variant = "test", Project = "p", Revision = new string('a', 40), ImageId = "sha256:" + ImageHex, ImageRef = imageRef };
        var built = Json(Built("slipway/p:run-7-make-build"));
        var resolved = RunCopyResolver.Resolve(step, step.Run.Copy, "run-7", plan, s => s == "make-build" ? built : null);
        Assert.Equal(
            [new RunCopy { Source = $"/srv/{ImageHex}/report.txt", Destination = $"srv/{ImageHex}/report.txt", Archive = true }, step.Run.Copy[1]],
            resolved);

        // artifactURLs lists the destination the tester resolved, not the template.
        var succeeded = Json(new TestSucceeded
        {
            ImageId = "sha256:" + ImageHex, ExitCode = 0,
            Artifacts = [new RunArtifact { Path = $"srv/{ImageHex}/report.txt", SizeBytes = 1, Sha256 = new string('0', 64) }],
        });
        var links = RuntimeOutputResolver.Resolve(
            new RuntimeTemplate { Parts = [new() { Output = new RuntimeOutputReference { Stage = "make", Name = "artifactURLs", Step = "make-run", ArtifactBaseUrl = "https://ci.example.org/" } }] },
            "run.env.X", "run-7", plan, s => s switch { "make-build" => built, "make-run" => succeeded, _ => null });
        Assert.Equal($"https://ci.example.org/runs/run-7/artifacts/make/srv/{ImageHex}/report.txt\n", links);

        // A stage's output ends with a line break (PipelineLib's too), which no path may hold: the step fails naming it.
        var output = new RuntimeTemplate { Parts = [new() { Text = "/tmp/" }, O("make", "output", "make-run")] };
        var withOutput = step with { Runtime = new Dictionary<string, RuntimeTemplate> { ["copy[0].source"] = output } };
        var tailPlan = plan with { Stages = [new PlanStage { Name = "make", Steps = [withOutput with { Run = withOutput.Run! with { Tail = 1 } }] }] };
        var e = Assert.Throws<RuntimeOutputException>(() => RunCopyResolver.Resolve(withOutput, step.Run.Copy, "run-7", tailPlan,
            s => s == "make-run" ? Json(new TestSucceeded { ImageId = "sha256:" + ImageHex, ExitCode = 0, OutputTail = "dist" }) : null));
        Assert.Equal("`copy[0].source`, once its runtime outputs are resolved, `/tmp/dist ` contains control characters (a line break, e.g. the one that ends a stage's `output`)", e.Message);
        var local = new RuntimeTemplate { Parts = [new() { Text = "/tmp/" }, O("make", "imageLocalName", "make-build")] };
        var withLocal = step with { Runtime = new Dictionary<string, RuntimeTemplate> { ["copy[1].destination"] = local } };
        var dotdot = Assert.Throws<RuntimeOutputException>(() => RunCopyResolver.Resolve(withLocal, step.Run.Copy, "run-7", plan,
            s => s == "make-build" ? Json(Built("../../etc")) : null));
        Assert.Equal("`copy[1].destination`, once its runtime outputs are resolved, `/tmp/../../etc` must not contain `..`: a copy stays inside the workspace", dotdot.Message);
    }
}
