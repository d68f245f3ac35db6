using System.Text;
using Slipway.Contracts;
using Slipway.GerritStandIn;
using Slipway.GerritStandIn.Samples;
using Slipway.Tests.Integration.Support;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// Repository content is hostile, played end to end: real repositories pushed with `git push` to the stand-in, run by
/// the six services. A link to a host file or a base image from a registry that is not the configured one refuses the
/// run with Verified -1 and a comment naming the path or the registry; no image is built and the host file's content
/// reaches no event, comment, log or image.
/// </summary>
public sealed class PushedHostileRepositoryTests(PushedHostileRepositoryTests.SharedPipeline shared, ITestOutputHelper output)
    : IClassFixture<PushedHostileRepositoryTests.SharedPipeline>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);

    /// <summary>One pipeline for both tests (starting six services is the slow part); each test pushes its own changes.</summary>
    public sealed class SharedPipeline : IAsyncLifetime
    {
        public PipelineEnvironment Env { get; private set; } = null!;
        public Task InitializeAsync() => StartAsync();
        private async Task StartAsync() => Env = await PipelineEnvironment.StartAsync("hostile");
        public async Task DisposeAsync() { if (Env is not null) await Env.DisposeAsync(); }
    }

    [Fact]
    public async Task A_pushed_symlink_to_a_host_file_is_refused_with_its_path_in_gerrit()
    {
        var env = shared.Env;
        // A host file the repository must never be able to read: outside the repository, outside the builder's work dir.
        var hostDir = Directory.CreateTempSubdirectory("slipway-host-secret-").FullName;
        var marker = "SLIPWAY-HOST-SECRET-" + Guid.NewGuid().ToString("N");
        var hostFile = Path.Combine(hostDir, "credentials");
        await File.WriteAllTextAsync(hostFile, marker + "\n");
        var sources = new List<string>();
        try
        {
            // `.dockerignore` read by the builder; `spec.json` a build-context file `copies: [local]` puts in the image.
            foreach (var link in new[] { ".dockerignore", "spec.json" })
            {
                var source = Directory.CreateTempSubdirectory("slipway-hostile-").FullName;
                sources.Add(source);
                GerritPush.WriteFiles(source, SampleProject.Files(env.BaseImage).Where(f => f.Key != link).ToDictionary());
                File.CreateSymbolicLink(Path.Combine(source, link), hostFile);

                var pushed = await GerritPush.PatchSetAsync(env.Gerrit.Gerrit, env.Project, source, $"Link {link} to a host file");
                var (runId, finished) = await RunOfAsync(env, pushed);
                Assert.Equal(RunOutcome.Failed, finished.Outcome);
                var verdict = await VerdictAsync(env, pushed);
                output.WriteLine($"change {pushed.ChangeNumber}: {verdict.Message}");
                Assert.Equal(-1, verdict.Labels["Verified"]);
                Assert.Contains($"{link}: ", verdict.Message);
                Assert.Contains($"is a symbolic link to \"{hostFile}\", outside the", verdict.Message);
                Assert.DoesNotContain(marker, verdict.Message);
                Assert.Empty(await ImagesAsync($"label=slipway.run={runId}"));
            }

            await AssertLeakedNowhereAsync(env, marker);
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
        finally
        {
            foreach (var s in sources) try { Directory.Delete(s, recursive: true); } catch (IOException) { }
            try { Directory.Delete(hostDir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task A_base_image_from_an_unlisted_or_look_alike_registry_is_refused_in_gerrit()
    {
        var env = shared.Env;
        // The configured registry is the base image's, e.g. 127.0.0.1:PORT/slipway/debian:bookworm.
        var slash = env.BaseImage.IndexOf('/');
        Assert.True(slash > 0, $"the base image {env.BaseImage} names no registry");
        var registry = env.BaseImage[..slash];
        var repository = env.BaseImage[(slash + 1)..];
        var host = registry.Split(':')[0];
        var port = registry.Contains(':') ? int.Parse(registry.Split(':')[1]) : 443;
        var lookAlike = $"{host}.evil.example"; // begins like the allowed registry, is another host
        var otherPort = $"{host}:{(port == 65535 ? 1 : port + 1)}"; // the allowed host, another service
        var sources = new List<string>();
        try
        {
            foreach (var hostile in new[] { lookAlike, otherPort })
            {
                var image = $"{hostile}/{repository}";
                var source = Directory.CreateTempSubdirectory("slipway-hostile-").FullName;
                sources.Add(source);
                GerritPush.WriteFiles(source, SampleProject.Files(image));

                var pushed = await GerritPush.PatchSetAsync(env.Gerrit.Gerrit, env.Project, source, $"Build from {hostile}");
                var (runId, finished) = await RunOfAsync(env, pushed);
                Assert.Equal(RunOutcome.Failed, finished.Outcome);
                var verdict = await VerdictAsync(env, pushed);
                output.WriteLine($"change {pushed.ChangeNumber}: {verdict.Message}");
                Assert.Equal(-1, verdict.Labels["Verified"]);
                Assert.Contains($"image \"{image}\" comes from registry \"{hostile}\", which is not allowed", verdict.Message);
                Assert.Contains(registry, verdict.Message); // the allowed registry is named too
                Assert.Empty(await ImagesAsync($"label=slipway.run={runId}"));
                Assert.Empty(await ImagesAsync($"reference={image}"));
            }
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
        finally
        {
            foreach (var s in sources) try { Directory.Delete(s, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<(string RunId, RunFinished Finished)> RunOfAsync(PipelineEnvironment env, PushedPatchSet pushed)
    {
        var started = await env.PipelineEvents.WaitForAsync($"the run of change {pushed.ChangeNumber}", e => e.Type == EventTypes.NameOf<RunStarted>()
            && e.DataAs<RunStarted>().Trigger.Revision == pushed.Revision, Timeout);
        var finished = await env.PipelineEvents.WaitForAsync($"the end of change {pushed.ChangeNumber}'s run",
            e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<RunFinished>(), Timeout);
        return (started.RunId!, finished.DataAs<RunFinished>());
    }

    private static async Task<PostedReview> VerdictAsync(PipelineEnvironment env, PushedPatchSet pushed)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (env.Gerrit.Gerrit.Reviews(pushed.ChangeNumber).FirstOrDefault(r => r.Labels.ContainsKey("Verified")) is { } review)
            {
                Assert.Equal((pushed.PatchSet, pushed.Revision), (review.PatchSet, review.Revision));
                return review;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"no Verified vote on change {pushed.ChangeNumber} within 90 s");
    }

    /// <summary>The host file's content is in no pipeline event, no Gerrit comment or stream event, no service log and no image of the project.</summary>
    private static async Task AssertLeakedNowhereAsync(PipelineEnvironment env, string marker)
    {
        foreach (var e in env.PipelineEvents.Events)
            Assert.DoesNotContain(marker, Encoding.UTF8.GetString(e.ToUtf8Json()));
        for (var change = 1; change <= 10; change++)
            foreach (var review in env.Gerrit.Gerrit.Reviews(change))
                Assert.DoesNotContain(marker, review.RequestBody);
        foreach (var e in env.Gerrit.Gerrit.Events())
            Assert.DoesNotContain(marker, e.Json);
        Assert.DoesNotContain(marker, env.Output);
        Assert.Empty(await ImagesAsync($"label=slipway.project={env.Project}"));
    }

    private static async Task<string[]> ImagesAsync(string filter)
    {
        var result = await Slipway.Embedded.ProcessRunner.RunAsync("docker", ["images", "-q", "--filter", filter]);
        Assert.True(result.Succeeded, result.StdErr);
        return result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
