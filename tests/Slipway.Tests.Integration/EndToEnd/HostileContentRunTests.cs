using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// An uploader's hostile content, played end to end through the six services as processes: the run fails with the
/// reason in Gerrit, and nothing is built.
/// </summary>
public sealed class HostileContentRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task A_base_image_from_a_look_alike_registry_host_fails_the_run_and_gerrit_is_told_why()
    {
        await using var env = await PipelineEnvironment.StartAsync("lookalike");
        try
        {
            // The real registry is 127.0.0.1:PORT; this host only starts with the same characters.
            var registry = env.BaseImage[..env.BaseImage.IndexOf('/')];
            var lookAlike = registry.Replace("127.0.0.1:", "127.0.0.1.evil.example:", StringComparison.Ordinal);
            var image = lookAlike + env.BaseImage[env.BaseImage.IndexOf('/')..];
            var upload = await env.Gerrit.Gerrit.UploadPatchsetAsync(env.Project, "master", SampleProject.Files(image), "Build from elsewhere");

            var started = await env.PipelineEvents.WaitForAsync("the run", e => e.Type == EventTypes.NameOf<RunStarted>(), Timeout);
            var finished = (await env.PipelineEvents.WaitForAsync("the run's end",
                e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<RunFinished>(), Timeout)).DataAs<RunFinished>();

            var why = $"image \"{image}\" comes from registry \"{lookAlike}\", which is not allowed (allowed registries: {registry}) (at variants.test.base)";
            Assert.Equal(RunOutcome.Failed, finished.Outcome);
            Assert.Contains(why, finished.Reason);
            Assert.DoesNotContain(env.PipelineEvents.Events, e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<BuildSucceeded>());

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            Slipway.GerritStandIn.PostedReview? review = null;
            while (review is null && DateTime.UtcNow < deadline)
            {
                review = env.Gerrit.Gerrit.Reviews(upload.ChangeNumber).FirstOrDefault(r => r.Labels.ContainsKey("Verified"));
                if (review is null) await Task.Delay(250);
            }
            Assert.NotNull(review);
            Assert.Equal(-1, review.Labels["Verified"]);
            Assert.Contains(why, review.Message);
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }
}
