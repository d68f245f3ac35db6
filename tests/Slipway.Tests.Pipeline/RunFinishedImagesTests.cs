using System.Text.Json;
using Slipway.Contracts;
using Slipway.Runs;

namespace Slipway.Tests.Pipeline;

/// <summary><c>run.finished</c> names every image the run published (plan order, bounded) and keeps <c>image</c>, the last, as before.</summary>
public sealed class RunFinishedImagesTests
{
    private static readonly DateTimeOffset Start = new(2026, 5, 1, 10, 0, 0, TimeSpan.Zero);

    private static PlanStep Step(string name, StepKind kind) => new() { Name = name, Kind = kind };

    private static ContainerImage Image(string name, char digest) => new()
    {
        Uri = $"registry.example.org/wikimedia/{name}", Tags = [$"2026-05-01-100000-{name}", new string('c', 40)], Digest = "sha256:" + new string(digest, 64),
    };

    private static StepRecord Published(string stage, string step, ContainerImage image) => new(StepOutcome.Succeeded, 1, 10,
        JsonSerializer.SerializeToElement(new PublishSucceeded
        {
            Stage = stage, Step = step, Attempt = 1, StartedAt = Start, FinishedAt = Start, DurationMs = 10,
            ImageId = "sha256:" + new string('d', 64), Image = image,
        }, ContractJson.Options));

    private static RunState Run(IReadOnlyList<PlanStage> stages, Dictionary<string, StepRecord> steps) => new("run-1", new RunStarted
    {
        Trigger = new RunTrigger { Kind = TriggerKind.Merge, Project = "p", Ref = "refs/heads/main", Revision = new string('a', 40) },
        Plan = new RunPlan
        {
            Pipeline = "p", Stages = stages,
            Graph = [.. stages.Select((s, i) => new PlanGraphNode { Stage = s.Name, DependsOn = i == 0 ? [] : [stages[i - 1].Name] })],
        },
        StartedAt = Start,
    }, steps, new Dictionary<string, string>(), null);

    [Fact]
    public void Every_published_image_is_listed_in_plan_order_and_image_stays_the_last()
    {
        var api = Image("foo-api", 'a');
        var worker = Image("foo-worker", 'b');
        var run = Run(
        [
            new PlanStage { Name = "api", Steps = [Step("api-build", StepKind.Build), Step("api-publish", StepKind.Publish)] },
            new PlanStage { Name = "worker", Steps = [Step("worker-build", StepKind.Build), Step("worker-publish", StepKind.Publish)] },
            new PlanStage { Name = "jobs", Steps = [Step("jobs-publish", StepKind.Publish)] },
        ], new Dictionary<string, StepRecord>
        {
            ["api-build"] = new(StepOutcome.Succeeded, 1, 10, null),
            ["worker-build"] = new(StepOutcome.Succeeded, 1, 10, null),
            // Recorded out of plan order: the list still follows the plan.
            ["worker-publish"] = Published("worker", "worker-publish", worker),
            ["api-publish"] = Published("api", "api-publish", api),
            ["jobs-publish"] = new(StepOutcome.Failed, 2, 10, null), // a failed publish pushed nothing
        });

        var finished = RunFinishedFactory.Settled(run, Start.AddMinutes(1));

        Assert.Equal(RunOutcome.Failed, finished.Outcome);
        Assert.Equal(
            [new PublishedImage { Stage = "api", Step = "api-publish", Image = api }, new PublishedImage { Stage = "worker", Step = "worker-publish", Image = worker }],
            finished.Images!.ToList(), new PublishedImageComparer());
        Assert.Equal(worker.Digest, finished.Image!.Digest);
        Assert.Equal(worker.Uri, finished.Image.Uri);

        // On the wire: the new list beside the old field.
        var json = JsonSerializer.SerializeToElement(finished, ContractJson.Options);
        Assert.Equal("registry.example.org/wikimedia/foo-worker", json.GetProperty("image").GetProperty("uri").GetString());
        Assert.Equal(["api/api-publish registry.example.org/wikimedia/foo-api", "worker/worker-publish registry.example.org/wikimedia/foo-worker"],
            json.GetProperty("images").EnumerateArray().Select(i =>
                $"{i.GetProperty("stage").GetString()}/{i.GetProperty("step").GetString()} {i.GetProperty("image").GetProperty("uri").GetString()}"));
    }

    [Fact]
    public void A_publish_that_failed_with_its_failure_event_ends_the_run_failed_without_an_image()
    {
        // The step's data is publish.failed (no `image`): read as publish.succeeded it threw, and the run never ended.
        var failed = new StepRecord(StepOutcome.Failed, 1, 10, JsonSerializer.SerializeToElement(new PublishFailed
        {
            Stage = "release", Step = "release-publish", Attempt = 1, StartedAt = Start, FinishedAt = Start, DurationMs = 10,
            ImageId = "sha256:" + new string('d', 64), Uri = "foo", Reason = "image name `foo` does not belong to project `p`",
        }, ContractJson.Options));
        var run = Run([new PlanStage { Name = "release", Steps = [Step("release-build", StepKind.Build), Step("release-publish", StepKind.Publish)] }],
            new Dictionary<string, StepRecord> { ["release-build"] = new(StepOutcome.Succeeded, 1, 10, null), ["release-publish"] = failed });

        var finished = RunFinishedFactory.Settled(run, Start.AddMinutes(1));

        Assert.Equal(RunOutcome.Failed, finished.Outcome);
        Assert.Null(finished.Image);
        Assert.Null(finished.Images);
        Assert.Null(run.ResultOf<PublishSucceeded>("release-publish"));
    }

    [Fact]
    public void A_run_that_published_nothing_has_neither_field()
    {
        var run = Run([new PlanStage { Name = "test", Steps = [Step("test-build", StepKind.Build)] }],
            new Dictionary<string, StepRecord> { ["test-build"] = new(StepOutcome.Succeeded, 1, 10, null) });

        var finished = RunFinishedFactory.Settled(run, Start.AddMinutes(1));

        Assert.Equal(RunOutcome.Succeeded, finished.Outcome);
        Assert.Null(finished.Images);
        Assert.Null(finished.Image);
        var json = JsonSerializer.SerializeToElement(finished, ContractJson.Options);
        Assert.False(json.TryGetProperty("images", out _));
    }

    [Fact]
    public void The_list_is_bounded_to_the_first_images_in_plan_order()
    {
        var count = RunFinished.MaxImages + 5;
        var stages = Enumerable.Range(1, count).Select(i => new PlanStage { Name = $"s{i}", Steps = [Step($"s{i}-publish", StepKind.Publish)] }).ToList();
        var steps = Enumerable.Range(1, count).ToDictionary(i => $"s{i}-publish", i => Published($"s{i}", $"s{i}-publish", Image($"img{i}", 'e')));

        var finished = RunFinishedFactory.Create(Run(stages, steps), RunOutcome.Succeeded, Start.AddMinutes(1));

        Assert.Equal(RunFinished.MaxImages, finished.Images!.Count);
        Assert.Equal("s1-publish", finished.Images[0].Step);
        Assert.Equal($"s{RunFinished.MaxImages}-publish", finished.Images[^1].Step);
        Assert.Equal($"registry.example.org/wikimedia/img{count}", finished.Image!.Uri);
    }

    // ContainerImage holds a list, so records compare it by reference; compare what a consumer reads.
    private sealed class PublishedImageComparer : IEqualityComparer<PublishedImage>
    {
        public bool Equals(PublishedImage? x, PublishedImage? y) => x is not null && y is not null && x.Stage == y.Stage && x.Step == y.Step
            && x.Image.Uri == y.Image.Uri && x.Image.Digest == y.Image.Digest && x.Image.Tags.SequenceEqual(y.Image.Tags);

        public int GetHashCode(PublishedImage obj) => HashCode.Combine(obj.Stage, obj.Step, obj.Image.Uri);
    }
}
