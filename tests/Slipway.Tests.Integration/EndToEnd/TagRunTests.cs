using System.Net.Http.Headers;
using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Slipway.Tests.Integration.Support;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// A new tag runs the pipeline as Wikimedia's Zuul <c>publish</c> pipeline ran PipelineLib on it: an annotated tag pushed
/// with `git push` to the stand-in starts a run of the tagged commit (Gerrit names the tag's own object; the run builds
/// the commit), and PipelineLib's default extra tag <c>${setup.tag}</c> publishes the image under the tag's name, in the
/// real registry. Deleting the tag starts nothing.
/// </summary>
public sealed class TagRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(8);

    private const string Config = """
        pipelines:
          release:
            blubberfile: blubber.yaml
            stages:
              - name: production
                build: production
                publish:
                  image: true
        """;

    [Fact]
    public async Task An_annotated_tag_runs_the_tagged_commit_and_publishes_the_image_under_the_tags_name()
    {
        await using var env = await PipelineEnvironment.StartAsync("tag");
        try
        {
            var gerrit = env.Gerrit.Gerrit;
            var files = SampleProject.Files(env.BaseImage).ToDictionary();
            files[".pipeline/config.yaml"] = Config;
            var upload = await gerrit.UploadPatchsetAsync(env.Project, "master", files, "Release 1.4");
            var merged = await gerrit.MergeAsync(upload.ChangeNumber);
            var mergeRun = await env.PipelineEvents.WaitForAsync("the merge run", e => e.Type == EventTypes.NameOf<RunStarted>()
                && e.DataAs<RunStarted>().Trigger is { Revision: var r, Kind: TriggerKind.Merge or TriggerKind.RefUpdate, Branch: "master" } && r == merged, RunTimeout);
            await env.PipelineEvents.WaitForAsync("the merge run's end", e => e.RunId == mergeRun.RunId && e.Type == EventTypes.NameOf<RunFinished>(), RunTimeout);

            gerrit.AllowDirectPush(gerrit.Developer, env.Project);
            var tagged = await GerritPush.TagBranchAsync(gerrit, env.Project, "master", "v1.4.0", message: "Release 1.4.0");
            Assert.Equal(merged, tagged);

            var started = await env.PipelineEvents.WaitForAsync("the tag's run", e => e.Type == EventTypes.NameOf<RunStarted>()
                && e.DataAs<RunStarted>().Trigger.Ref == "refs/tags/v1.4.0", RunTimeout);
            var trigger = started.DataAs<RunStarted>().Trigger;
            Assert.NotEqual(mergeRun.RunId, started.RunId);
            Assert.Equal((TriggerKind.RefUpdate, null, merged, null), (trigger.Kind, trigger.Branch, trigger.Revision, trigger.Change));
            await env.PipelineEvents.WaitForAsync("the tag's run end", e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<RunFinished>(), RunTimeout);
            var events = env.PipelineEvents.Events.Where(e => e.RunId == started.RunId).ToList();
            var finished = events[^1].DataAs<RunFinished>();
            Assert.True(finished.Outcome == RunOutcome.Succeeded, finished.Reason);
            var published = events.Single(e => e.Type == EventTypes.NameOf<PublishSucceeded>()).DataAs<PublishSucceeded>();
            Assert.Equal(3, published.Image.Tags.Count);
            Assert.Equal(merged, published.Image.Tags[1]);
            Assert.Equal("v1.4.0", published.Image.Tags[2]);

            // The registry holds the tag's name, for the same manifest as the commit's tag.
            Assert.Equal(published.Image.Digest, await RegistryDigestAsync(published.Image.Uri, "v1.4.0"));
            Assert.Equal(published.Image.Digest, await RegistryDigestAsync(published.Image.Uri, merged));

            // Deleting the tag starts nothing: no further run of the project.
            await GerritPush.DeleteTagAsync(gerrit, env.Project, "v1.4.0");
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Equal(2, env.PipelineEvents.Events.Count(e => e.Type == EventTypes.NameOf<RunStarted>() && e.DataAs<RunStarted>().Trigger.Project == env.Project));
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }

    private static async Task<string?> RegistryDigestAsync(string uri, string tag)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var user = Environment.GetEnvironmentVariable("Registry__Username")!;
        var password = Environment.GetEnvironmentVariable("Registry__Password")!;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}")));
        var slash = uri.IndexOf('/');
        using var request = new HttpRequestMessage(HttpMethod.Head, $"http://{uri[..slash]}/v2/{uri[(slash + 1)..]}/manifests/{tag}");
        foreach (var type in new[] { "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json" })
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        using var response = await http.SendAsync(request);
        return response.IsSuccessStatusCode && response.Headers.TryGetValues("Docker-Content-Digest", out var d) ? d.Single() : null;
    }
}
