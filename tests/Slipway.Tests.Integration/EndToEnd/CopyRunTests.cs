using System.Formats.Tar;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Slipway.Contracts;
using Slipway.GerritStandIn;
using Slipway.GerritStandIn.Samples;
using Slipway.Tests.Integration.Support;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// PipelineLib's <c>copy</c> run for real: a stage's run step writes files, <c>copy</c> takes them out of its stopped
/// container, and the next stage's Blubber build copies them into its image (exact content); an <c>archive: true</c>
/// file is listed on the run's page and downloads with its exact bytes. A hostile run container (a link to the host's
/// <c>/etc/passwd</c> in the copied directory, an archived file named with a bidi override, or a file larger than the
/// step's limit) fails its step with the reason,
/// and nothing of it reaches the artifact directory. A stage copying out of an earlier stage's container
/// (<c>from: ${make.container}</c>) gets the files into its descendants' builds only, and its archived file is listed under it.
/// A destination holding a runtime output (<c>${.imageID}</c>) is resolved when the tester copies; one resolving to a path
/// with a line break (a stage's <c>output</c>) fails the step naming the field.
/// </summary>
public sealed class CopyRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(12);

    private const string Report = "report line 1\nüñí ☃ line 2\n";

    private const string Config = """
        pipelines:
          handoff:
            blubberfile: blubber.yaml
            stages:
              - name: make
                build: make
                run: true
                copy:
                  - {source: /tmp/out/report.txt, destination: generated/report.txt, archive: true}
                  - /tmp/out/dist/
              - name: use
                build: use
                run: true
          links:
            blubberfile: blubber.yaml
            stages:
              - name: evil
                build: evil
                run: true
                copy: [/tmp/bundle/]
              - name: later
                build: use
                run: true
          across:
            blubberfile: blubber.yaml
            stages:
              - name: make
                build: make
                run: true
              - name: take
                build: make
                run: true
                copy:
                  - {from: '${make.container}', source: /tmp/out/report.txt, destination: taken/report.txt, archive: true}
                  - {source: /tmp/out/dist/, destination: own/}
              - name: seen
                build: seen
                run: true
              - name: unseen
                build: unseen
                run: true
            execution:
              - [make, take, seen]
              - [make, unseen]
          bidi:
            blubberfile: blubber.yaml
            stages:
              - name: names
                build: names
                run: true
                copy:
                  - {source: /tmp/names, destination: names, archive: true}
          resolved:
            blubberfile: blubber.yaml
            stages:
              - name: make
                build: make
                run: {tail: 1}
                copy:
                  - {source: /tmp/out/report.txt, destination: 'by-image/${.imageID}.txt', archive: true}
          newline:
            blubberfile: blubber.yaml
            stages:
              - name: make
                build: make
                run: {tail: 1}
                copy: ['/tmp/out/${.output}']
          huge:
            blubberfile: blubber.yaml
            stages:
              - name: big
                build: big
                run: true
                copy: [/tmp/big.bin]
        """;

    private static IReadOnlyDictionary<string, string?> Files(string baseImage)
    {
        var files = SampleProject.Files(baseImage).ToDictionary();
        files[".pipeline/blubber.yaml"] += """

              make:
                entrypoint: [python3, -c, "import os; os.makedirs('/tmp/out/dist/sub'); open('/tmp/out/report.txt', 'w', encoding='utf-8').write('report line 1\\nüñí ☃ line 2\\n'); open('/tmp/out/dist/sub/app.js', 'w').write('console.log(1)\\n'); print('made')"]
              use:
                copies: [local]
                entrypoint: [python3, -c, "print(open('/srv/service/generated/report.txt', encoding='utf-8').read(), end=''); print(open('/srv/service/tmp/out/dist/sub/app.js').read(), end='')"]
              seen:
                copies: [local]
                entrypoint: [python3, -c, "print(open('/srv/service/taken/report.txt', encoding='utf-8').read(), end=''); print(open('/srv/service/own/sub/app.js').read(), end='')"]
              unseen:
                copies: [local]
                entrypoint: [python3, -c, "import os; print(os.path.exists('/srv/service/taken'), os.path.exists('/srv/service/own'))"]
              evil:
                entrypoint: [python3, -c, "import os; os.makedirs('/tmp/bundle'); open('/tmp/bundle/ok.txt', 'w').write('ok'); os.symlink('/etc/passwd', '/tmp/bundle/passwd'); print('linked')"]
              names:
                entrypoint: [python3, -c, "import os; os.makedirs('/tmp/names'); open('/tmp/names/ok.txt', 'w').write('ok'); open('/tmp/names/report' + chr(0x202e) + 'exe.txt', 'w').write('x'); print('named')"]
              big:
                entrypoint: [python3, -c, "open('/tmp/big.bin', 'wb').write(b'x' * (3 * 1024 * 1024)); print('big')"]
            """;
        files[".pipeline/config.yaml"] = Config;
        return files;
    }

    [Fact]
    public async Task Copied_files_reach_the_next_build_archived_ones_download_and_hostile_containers_fail()
    {
        await using var env = await PipelineEnvironment.StartAsync("copy", new Dictionary<string, string?>
        {
            ["Artifacts__MaxBytesPerStep"] = (1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var source = Directory.CreateTempSubdirectory("slipway-copy-").FullName;
        using var docker = new DockerClientConfiguration(new Uri(Environment.GetEnvironmentVariable("Docker__Endpoint")!)).CreateClient();
        try
        {
            GerritPush.WriteFiles(source, Files(env.BaseImage));
            var pushed = await GerritPush.PatchSetAsync(env.Gerrit.Gerrit, env.Project, source, "Copy files between stages");

            // handoff: the copy reaches the next stage's image, byte for byte, and its run step reads it.
            var (handoffRun, handoff) = await FinishedAsync(env, pushed.Revision, "handoff");
            Assert.True(handoff.Outcome == RunOutcome.Succeeded, handoff.Reason);
            var used = Event<TestSucceeded>(env, handoffRun, "use-run");
            Assert.EndsWith(Report + "console.log(1)", used.OutputTail); // the tail keeps no final line break
            var image = Event<BuildSucceeded>(env, handoffRun, "use-build");
            Assert.Equal(Encoding.UTF8.GetBytes(Report), await FileOfImageAsync(docker, image.ImageId, "/srv/service/generated/report.txt"));
            Assert.Equal("console.log(1)\n"u8.ToArray(), await FileOfImageAsync(docker, image.ImageId, "/srv/service/tmp/out/dist/sub/app.js"));

            var made = Event<TestSucceeded>(env, handoffRun, "make-run");
            var artifact = Assert.Single(made.Artifacts!);
            Assert.Equal("generated/report.txt", artifact.Path);
            Assert.Equal(Encoding.UTF8.GetByteCount(Report), artifact.SizeBytes);
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Report))), artifact.Sha256);

            // The archived file is listed on the run's page and downloads with its exact bytes, as an attachment.
            using var http = new HttpClient { BaseAddress = new Uri(env.UrlOf("reporter")) };
            var link = $"/runs/{handoffRun}/artifacts/make/generated/report.txt";
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            string page;
            while (!(page = await http.GetStringAsync($"/runs/{handoffRun}")).Contains($"href=\"{link}\"", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
                await Task.Delay(500);
            Assert.Contains($"href=\"{link}\" download>generated/report.txt</a>", page);
            using (var download = await http.GetAsync(link))
            {
                Assert.Equal(System.Net.HttpStatusCode.OK, download.StatusCode);
                Assert.Equal("application/octet-stream", download.Content.Headers.ContentType!.MediaType);
                Assert.Equal("attachment", download.Content.Headers.ContentDisposition!.DispositionType);
                Assert.Equal("report.txt", download.Content.Headers.ContentDisposition.FileName);
                Assert.Equal(Encoding.UTF8.GetBytes(Report), await download.Content.ReadAsByteArrayAsync());
            }
            using (var details = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"/api/runs/{handoffRun}/details")))
            {
                var listed = Assert.Single(details.RootElement.GetProperty("artifacts").EnumerateArray());
                Assert.Equal(("make", "make-run", "generated/report.txt", artifact.SizeBytes, artifact.Sha256),
                    (listed.GetProperty("stage").GetString(), listed.GetProperty("step").GetString(), listed.GetProperty("path").GetString(),
                     listed.GetProperty("sizeBytes").GetInt64(), listed.GetProperty("sha256").GetString()));
            }
            // Only listed files are served: a copied but not archived file, a made-up path, a climb out of the store.
            foreach (var other in new[] { $"/runs/{handoffRun}/artifacts/make/tmp/out/dist/sub/app.js", $"/runs/{handoffRun}/artifacts/make/generated/nope.txt",
                $"/runs/{handoffRun}/artifacts/make/..%2F..%2F..%2Fetc%2Fpasswd", $"/runs/{handoffRun}/artifacts/..%2Fmake/generated/report.txt" })
            {
                using var refused = await http.GetAsync(other);
                Assert.Equal(System.Net.HttpStatusCode.NotFound, refused.StatusCode);
            }

            // across: take copies out of make's container (taken by make's run step) and out of its own; take's
            // descendant gets both, make's other child neither; the archived file is take's.
            var (acrossRun, across) = await FinishedAsync(env, pushed.Revision, "across");
            Assert.True(across.Outcome == RunOutcome.Succeeded, across.Reason);
            Assert.EndsWith(Report + "console.log(1)", Event<TestSucceeded>(env, acrossRun, "seen-run").OutputTail);
            Assert.EndsWith("False False", Event<TestSucceeded>(env, acrossRun, "unseen-run").OutputTail);
            var taken = Assert.Single(Event<TestSucceeded>(env, acrossRun, "make-run").Artifacts!);
            Assert.Equal(("take", "taken/report.txt", (long)Encoding.UTF8.GetByteCount(Report)), (taken.Stage, taken.Path, taken.SizeBytes));
            Assert.Null(Event<TestSucceeded>(env, acrossRun, "take-run").Artifacts);
            var takenLink = $"/runs/{acrossRun}/artifacts/take/taken/report.txt";
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!(page = await http.GetStringAsync($"/runs/{acrossRun}")).Contains($"href=\"{takenLink}\"", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
                await Task.Delay(500);
            Assert.Contains($"href=\"{takenLink}\" download>taken/report.txt</a>", page);
            using (var download = await http.GetAsync(takenLink))
            {
                Assert.Equal(System.Net.HttpStatusCode.OK, download.StatusCode);
                Assert.Equal(Encoding.UTF8.GetBytes(Report), await download.Content.ReadAsByteArrayAsync());
            }
            using (var refused = await http.GetAsync($"/runs/{acrossRun}/artifacts/make/taken/report.txt"))
                Assert.Equal(System.Net.HttpStatusCode.NotFound, refused.StatusCode);

            // links: a link in the copied directory fails the step; nothing of the container is kept.
            var (linksRun, links) = await FinishedAsync(env, pushed.Revision, "links");
            Assert.Equal(RunOutcome.Failed, links.Outcome);
            Assert.Equal("evil-run failed: copy of `/tmp/bundle`: `/tmp/bundle/passwd` is a link (to `/etc/passwd`): links are not copied", links.Reason);
            Assert.Equal(StepOutcome.Skipped, links.Steps.Single(s => s.Name == "later-build").Outcome);
            Assert.Empty(FilesUnder(Path.Combine(env.ArtifactsDirectory, linksRun)));

            // bidi: an archived file whose name holds a bidi override is refused like a link: the step fails naming it, escaped.
            var (bidiRun, bidi) = await FinishedAsync(env, pushed.Revision, "bidi");
            Assert.Equal(RunOutcome.Failed, bidi.Outcome);
            Assert.Equal("names-run failed: copy of `/tmp/names`: `names/report\\u202Eexe.txt` is not archived: its name contains U+202E (a bidi control character) "
                + "(an archived file's name must not hold control, format, bidi or line separator characters)", bidi.Reason);
            Assert.Empty(FilesUnder(Path.Combine(env.ArtifactsDirectory, bidiRun)));

            // resolved: a destination holding a runtime output (the stage's image id) is resolved when the tester copies.
            var (resolvedRun, resolved) = await FinishedAsync(env, pushed.Revision, "resolved");
            Assert.True(resolved.Outcome == RunOutcome.Succeeded, resolved.Reason);
            var imageHex = Event<BuildSucceeded>(env, resolvedRun, "make-build").ImageId["sha256:".Length..];
            var byImage = Assert.Single(Event<TestSucceeded>(env, resolvedRun, "make-run").Artifacts!);
            Assert.Equal(($"by-image/{imageHex}.txt", (long)Encoding.UTF8.GetByteCount(Report)), (byImage.Path, byImage.SizeBytes));
            Assert.Equal(Encoding.UTF8.GetBytes(Report), await File.ReadAllBytesAsync(Path.Combine(env.ArtifactsDirectory, resolvedRun, "make", "by-image", imageHex + ".txt")));

            // newline: a stage's output ends with a line break (PipelineLib's too), so a path made of it is refused
            // when resolved, naming the field; nothing is copied.
            var (newlineRun, newline) = await FinishedAsync(env, pushed.Revision, "newline");
            Assert.Equal(RunOutcome.Failed, newline.Outcome);
            Assert.Equal("make-run failed: `copy[0].source`, once its runtime outputs are resolved, `/tmp/out/made ` contains control characters "
                + "(a line break, e.g. the one that ends a stage's `output`)", newline.Reason);
            Assert.Empty(FilesUnder(Path.Combine(env.ArtifactsDirectory, newlineRun)));

            // huge: more bytes than the step may copy.
            var (hugeRun, huge) = await FinishedAsync(env, pushed.Revision, "huge");
            Assert.Equal(RunOutcome.Failed, huge.Outcome);
            Assert.Equal("big-run failed: copy of `/tmp/big.bin`: more than 1048576 bytes in this step's copies (Artifacts:MaxBytesPerStep)", huge.Reason);
            Assert.Empty(FilesUnder(Path.Combine(env.ArtifactsDirectory, hugeRun)));
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
        finally
        {
            Directory.Delete(source, recursive: true);
        }
    }

    private static IEnumerable<string> FilesUnder(string dir) =>
        Directory.Exists(dir) ? Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories) : [];

    private static T Event<T>(PipelineEnvironment env, string runId, string step) where T : StepEvent =>
        env.PipelineEvents.Events.Where(e => e.RunId == runId && e.Type == EventTypes.NameOf<T>()).Select(e => e.DataAs<T>()).Single(e => e.Step == step);

    /// <summary>A file of an image, read through a container that is created (never started) and removed.</summary>
    private static async Task<byte[]> FileOfImageAsync(DockerClient docker, string imageId, string path)
    {
        var created = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = imageId, Name = "slipway-copytest-" + Guid.NewGuid().ToString("N")[..12], NetworkDisabled = true,
        });
        try
        {
            var archive = await docker.Containers.GetArchiveFromContainerAsync(created.ID, new GetArchiveFromContainerParameters { Path = path }, false);
            await using var stream = archive.Stream;
            using var reader = new TarReader(stream);
            var entry = await reader.GetNextEntryAsync(copyData: true) ?? throw new InvalidOperationException("empty archive");
            Assert.Equal(TarEntryType.RegularFile, entry.EntryType is TarEntryType.V7RegularFile ? TarEntryType.RegularFile : entry.EntryType);
            using var content = new MemoryStream();
            await entry.DataStream!.CopyToAsync(content);
            return content.ToArray();
        }
        finally
        {
            await docker.Containers.RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true });
        }
    }

    private static async Task<(string RunId, RunFinished Finished)> FinishedAsync(PipelineEnvironment env, string revision, string pipeline)
    {
        var started = await env.PipelineEvents.WaitForAsync($"the {pipeline} run", e => e.Type == EventTypes.NameOf<RunStarted>()
            && e.DataAs<RunStarted>().Trigger.Revision == revision && e.DataAs<RunStarted>().Plan.Pipeline == pipeline, Timeout);
        var end = await env.PipelineEvents.WaitForAsync($"the end of the {pipeline} run",
            e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<RunFinished>(), Timeout);
        return (started.RunId!, end.DataAs<RunFinished>());
    }
}
