using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Slipway.Tests.Integration.Support;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// One image repository, one project. PipelineLib's name rule lets <c>own/hello-x</c> and <c>rival/hello-x</c> both
/// publish as <c>hello-x</c> (the short project name); without ownership the rival's merge replaced the owner's tags in
/// the registry and its retention pruned the owner's images, past the owner's approvers.
/// </summary>
public sealed class ImageOwnershipTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);

    private static string Config(string name) => $$"""
        pipelines:
          release:
            blubberfile: blubber.yaml
            stages:
              - name: production
                build: production
                publish:
                  image:
                    name: {{name}}
                    tags: [stable]
        """;

    [Fact]
    public async Task A_second_project_with_the_same_short_name_cannot_publish_to_the_first_ones_image_name()
    {
        await using var env = await PipelineEnvironment.StartAsync("own");
        var rival = "rival/" + env.Service;
        try
        {
            var gerrit = env.Gerrit.Gerrit;
            await gerrit.CreateProjectAsync(rival);
            var files = SampleProject.Files(env.BaseImage).ToDictionary();
            files[".pipeline/config.yaml"] = Config(env.Service);

            var own = await gerrit.UploadPatchsetAsync(env.Project, "master", files, "Publish as the short name");
            var ownMerged = await gerrit.MergeAsync(own.ChangeNumber);
            var ownEvents = await RunAsync(env, env.Project, ownMerged);
            Assert.Equal(RunOutcome.Succeeded, ownEvents[^1].DataAs<RunFinished>().Outcome);
            var published = Assert.Single(ownEvents, e => e.Type == EventTypes.NameOf<PublishSucceeded>()).DataAs<PublishSucceeded>();
            Assert.Equal(env.Service, published.Name);
            var tagsBefore = await TestInfrastructure.RegistryTagsAsync(env.Service);
            Assert.Contains("stable", tagsBefore);

            files["CHANGELOG"] = "the rival's image\n";
            var other = await gerrit.UploadPatchsetAsync(rival, "master", files, "Publish over the other project's image");
            var otherMerged = await gerrit.MergeAsync(other.ChangeNumber);
            var otherEvents = await RunAsync(env, rival, otherMerged);
            var finished = otherEvents[^1].DataAs<RunFinished>();
            Assert.Equal(RunOutcome.Failed, finished.Outcome);
            Assert.Equal($"production-publish failed: image name `{env.Service}` does not belong to project `{rival}`: project `{env.Project}` " +
                "published it first; a project publishes only to its own image names (an operator can give a name to another project " +
                "with Publisher:ImageOwners:<name>)", finished.Reason);
            Assert.DoesNotContain(otherEvents, e => e.Type == EventTypes.NameOf<PublishStarted>());

            // The registry holds exactly what the owner published: same tags, `stable` still the owner's image.
            Assert.Equal(tagsBefore, await TestInfrastructure.RegistryTagsAsync(env.Service));
            Assert.Equal(published.Image.Digest, await DigestAsync(env.Service, "stable"));
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }

    private static async Task<List<EventEnvelope>> RunAsync(PipelineEnvironment env, string project, string revision)
    {
        var started = await env.PipelineEvents.WaitForAsync($"the run of {project}", e => e.Type == EventTypes.NameOf<RunStarted>()
            && e.DataAs<RunStarted>() is var r && r.Trigger.Project == project && r.Trigger.Revision == revision, Timeout);
        await env.PipelineEvents.WaitForAsync($"the end of {project}'s run",
            e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<RunFinished>(), Timeout);
        return env.PipelineEvents.Events.Where(e => e.RunId == started.RunId).DistinctBy(e => e.Id).ToList();
    }

    private static async Task<string?> DigestAsync(string repository, string tag)
    {
        using var http = TestInfrastructure.RegistryClient();
        using var request = new HttpRequestMessage(HttpMethod.Head, $"v2/{repository}/manifests/{tag}");
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.index.v1+json");
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.Single() : null;
    }

}
