using System.Text.Json;
using Slipway.Reporter;
using Slipway.Reporter.Checks;
using Slipway.Reporter.Runs;

namespace Slipway.Tests.Unit.Reporter;

/// <summary>Gerrit's Checks tab for a patch set, composed from the runs the reporter recorded.</summary>
public sealed class CheckRunsComposerTests
{
    private static readonly ReporterOptions Options = new() { PublicUrl = "https://slipway.example.org" };
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    private static readonly PlannedStepView[] Plan =
    [
        new("test/build", "build"), new("test/run", "test"), new("candidate/build", "build"), new("candidate/smoke", "smoke"),
    ];

    private static RunView Run(string id, DateTimeOffset started, string? outcome = null, DateTimeOffset? finished = null,
        string pipeline = "service", string? reason = null, string? failedStep = null) =>
        new(id, "demo/hello", 42, 3, "3f7c8e2d9a1b4c5d6e7f8091a2b3c4d5e6f70819", "refs/changes/42/42/3", "patchset", pipeline,
            4, "test/build", started, finished, outcome, failedStep, reason, null, null, null) { PlannedSteps = Plan };

    [Fact]
    public void A_running_run_shows_done_steps_completed_the_current_one_running_and_future_ones_runnable()
    {
        var run = Run("run-1", T0) with
        {
            Steps =
            [
                new("test", "build", "build", "succeeded", 1, T0, T0.AddSeconds(61), 61_000, null, null),
                new("test", "run", "test", "running", 2, T0.AddSeconds(61), null, null, null, null),
            ],
        };

        var response = CheckRunsComposer.Compose([run], Options);

        Assert.Equal("OK", response.ResponseCode);
        Assert.Equal(
            [("test/build", "COMPLETED"), ("test/run", "RUNNING"), ("candidate/build", "RUNNABLE"), ("candidate/smoke", "RUNNABLE")],
            response.Runs.Select(r => (r.CheckName, r.Status)));
        var built = response.Runs[0];
        Assert.Equal((42, 3, 1, "run-1/test/build", "Verified"), (built.Change, built.Patchset, built.Attempt, built.ExternalId, built.LabelName));
        Assert.Equal("https://slipway.example.org/runs/run-1", built.CheckLink);
        var result = Assert.Single(built.Results!);
        Assert.Equal(("SUCCESS", "passed in 1m 1s"), (result.Category, result.Summary));
        Assert.Equal("step 2 of 4, attempt 2, running", response.Runs[1].StatusDescription);
        Assert.Null(response.Runs[1].Results);
        Assert.Equal("step 3 of 4: waiting for the steps before it", response.Runs[2].StatusDescription);
        Assert.Null(response.Runs[2].Results); // Gerrit: RUNNABLE runs must not have results
    }

    [Fact]
    public void A_failed_step_is_an_error_with_its_reason_its_output_made_inert_and_a_link_to_the_run()
    {
        var run = Run("run-1", T0, "failed", T0.AddSeconds(80), reason: "exit code 1", failedStep: "test/run") with
        {
            Steps =
            [
                new("test", "build", "build", "succeeded", 1, T0, T0.AddSeconds(61), 61_000, null, null),
                new("test", "run", "test", "failed", 1, T0.AddSeconds(61), T0.AddSeconds(80), 19_000, "exit code 1",
                    "collecting\n\u001b[31mFAILED\u001b[0m test_hello\u202Eevil"),
            ],
        };

        var response = CheckRunsComposer.Compose([run], Options);

        var failed = response.Runs[1];
        Assert.Equal(("test/run", "COMPLETED"), (failed.CheckName, failed.Status));
        var result = Assert.Single(failed.Results!);
        Assert.Equal(("ERROR", "exit code 1"), (result.Category, result.Summary));
        Assert.Equal("    collecting\n    FAILED test_hello\uFFFDevil", result.Message);
        Assert.Equal(new CheckLink("https://slipway.example.org/runs/run-1", "Run status page with the step's output", true, "external"),
            Assert.Single(result.Links!));
        Assert.Equal(new CheckTag("TEST", "gray"), Assert.Single(result.Tags!));
        Assert.Equal("not run: the run ended (failed) before this step", response.Runs[2].StatusDescription);
        Assert.Equal("RUNNABLE", response.Runs[3].Status);
    }

    [Fact]
    public void A_recheck_is_the_next_attempt_of_the_same_checks()
    {
        var first = Run("run-1", T0, "failed", T0.AddSeconds(80), reason: "exit code 1", failedStep: "test/run");
        var recheck = Run("run-2", T0.AddMinutes(5));

        var response = CheckRunsComposer.Compose([recheck, first], Options);

        Assert.Equal(8, response.Runs.Count);
        Assert.Equal([1, 1, 1, 1, 2, 2, 2, 2], response.Runs.Select(r => r.Attempt ?? 0));
        Assert.Equal(response.Runs.Take(4).Select(r => r.CheckName), response.Runs.Skip(4).Select(r => r.CheckName));
        Assert.All(response.Runs.Skip(4), r => Assert.StartsWith("run-2/", r.ExternalId));
    }

    [Fact]
    public void A_run_refused_before_its_first_step_is_one_failed_plan_check_with_the_reason()
    {
        var refused = Run("run-1", T0, "failed", T0.AddSeconds(2), reason: ".pipeline/config.yaml: line 4: unknown key 'stagez'") with { PlannedSteps = [] };

        var check = Assert.Single(CheckRunsComposer.Compose([refused], Options).Runs);

        Assert.Equal(("plan", "COMPLETED", 1), (check.CheckName, check.Status, check.Attempt));
        var result = Assert.Single(check.Results!);
        Assert.Equal(("ERROR", ".pipeline/config.yaml: line 4: unknown key 'stagez'"), (result.Category, result.Summary));
    }

    [Fact]
    public void Several_pipelines_of_one_patch_set_are_told_apart_by_name()
    {
        var response = CheckRunsComposer.Compose([Run("run-1", T0, pipeline: "api"), Run("run-2", T0, pipeline: "worker")], Options);

        Assert.Contains(response.Runs, r => r.CheckName == "api: test/build" && r.Attempt == 1);
        Assert.Contains(response.Runs, r => r.CheckName == "worker: test/build" && r.Attempt == 1);
    }

    [Fact]
    public void The_json_has_the_checks_api_field_names_and_leaves_absent_fields_out()
    {
        var json = JsonSerializer.Serialize(CheckRunsComposer.Compose([Run("run-1", T0)], Options), ChecksJson.Options);
        using var doc = JsonDocument.Parse(json);
        var first = doc.RootElement.GetProperty("runs")[0];

        Assert.Equal("OK", doc.RootElement.GetProperty("responseCode").GetString());
        Assert.Equal("RUNNABLE", first.GetProperty("status").GetString());
        Assert.Equal("test/build", first.GetProperty("checkName").GetString());
        Assert.False(first.TryGetProperty("results", out _));
        Assert.False(first.TryGetProperty("startedTimestamp", out _));
        Assert.False(doc.RootElement.TryGetProperty("summaryMessage", out _));
    }
}
