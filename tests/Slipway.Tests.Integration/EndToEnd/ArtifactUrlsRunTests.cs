using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Slipway.Contracts;
using Slipway.GerritStandIn;
using Slipway.GerritStandIn.Samples;
using Slipway.Tests.Integration.Support;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// PipelineLib's <c>${&lt;stage&gt;.artifactURLs}</c> run for real: stage <c>make</c> copies a file with a hostile name and
/// a directory with <c>archive: true</c> (and one entry without), stage <c>use</c> gets the links in its environment and
/// prints them; each link, fetched from the reporter, answers with the file's exact bytes, or with the directory as a
/// <c>.tar.gz</c> holding its files; the entry that was not archived gives an empty line, as in PipelineLib. A stage
/// that only copies out of <c>make</c>'s container (<c>grab</c>: no build, no run) has its own links, which stage
/// <c>show</c> gets: its file, listed under <c>grab</c>, downloads with the same bytes.
/// </summary>
public sealed class ArtifactUrlsRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(12);

    private const string HostileName = "got/a b#c?d%e-é.txt";

    private const string Config = """
        pipelines:
          links:
            blubberfile: blubber.yaml
            stages:
              - name: make
                build: make
                run: true
                copy:
                  - {source: /tmp/out/report.txt, destination: "got/a b#c?d%e-é.txt", archive: true}
                  - /tmp/out/report.txt
                  - {source: /tmp/out/dist/, destination: packed/dist/, archive: true}
              - name: use
                build: use
                run:
                  env: {LINKS: '${make.artifactURLs}'}
              - name: grab
                copy:
                  - {from: '${make.container}', source: /tmp/out/report.txt, destination: grabbed/report.txt, archive: true}
              - name: show
                build: use
                run:
                  env: {LINKS: '${grab.artifactURLs}'}
        """;

    [Fact]
    public async Task A_later_stage_gets_one_link_per_copy_entry_and_each_link_downloads_from_the_reporter()
    {
        await using var env = await PipelineEnvironment.StartAsync("links");
        var source = Directory.CreateTempSubdirectory("slipway-links-").FullName;
        try
        {
            var files = SampleProject.Files(env.BaseImage).ToDictionary();
            files[".pipeline/blubber.yaml"] += """

                  make:
                    entrypoint: [python3, -c, "import os; os.makedirs('/tmp/out/dist/sub'); open('/tmp/out/report.txt', 'wb').write(b'report \\xff\\x00 bytes\\n'); open('/tmp/out/dist/sub/app.js', 'w').write('console.log(1)\\n'); open('/tmp/out/dist/top.txt', 'w').write('top\\n'); print('made')"]
                  use:
                    entrypoint: [python3, -c, "import os; print('LINKS<' + os.environ['LINKS'] + '>')"]
                """;
            files[".pipeline/config.yaml"] = Config;
            GerritPush.WriteFiles(source, files);
            var pushed = await GerritPush.PatchSetAsync(env.Gerrit.Gerrit, env.Project, source, "Artifact links between stages");

            var started = await env.PipelineEvents.WaitForAsync("the links run", e => e.Type == EventTypes.NameOf<RunStarted>()
                && e.DataAs<RunStarted>().Trigger.Revision == pushed.Revision, Timeout);
            var runId = started.RunId!;
            var end = (await env.PipelineEvents.WaitForAsync("the end of the links run",
                e => e.RunId == runId && e.Type == EventTypes.NameOf<RunFinished>(), Timeout)).DataAs<RunFinished>();
            Assert.True(end.Outcome == RunOutcome.Succeeded, end.Reason);

            string[] LinksPrintedBy(string step)
            {
                var printed = env.PipelineEvents.Events.Where(e => e.RunId == runId && e.Type == EventTypes.NameOf<TestSucceeded>())
                    .Select(e => e.DataAs<TestSucceeded>()).Single(e => e.Step == step).OutputTail!;
                return printed[(printed.IndexOf("LINKS<", StringComparison.Ordinal) + "LINKS<".Length)..printed.LastIndexOf('>')].Split('\n');
            }
            var links = LinksPrintedBy("use-run");
            var reporter = env.UrlOf("reporter");
            var prefix = $"{reporter}/runs/{runId}/artifacts/make/";
            Assert.Equal([prefix + "got/a%20b%23c%3Fd%25e-%C3%A9.txt", "", prefix + "packed/dist.tar.gz"], links);

            using var http = new HttpClient();
            byte[] report = [.. "report "u8, 0xff, 0x00, .. " bytes\n"u8];
            using (var file = await GetWhenListedAsync(http, links[0]))
            {
                Assert.Equal("application/octet-stream", file.Content.Headers.ContentType!.MediaType);
                Assert.Equal(report, await file.Content.ReadAsByteArrayAsync());
            }
            using (var archive = await GetWhenListedAsync(http, links[2]))
            {
                Assert.Equal("application/gzip", archive.Content.Headers.ContentType!.MediaType);
                Assert.Equal("attachment", archive.Content.Headers.ContentDisposition!.DispositionType);
                Assert.Equal("dist.tar.gz", archive.Content.Headers.ContentDisposition.FileName);
                Assert.Equal("nosniff", archive.Headers.GetValues("X-Content-Type-Options").Single());
                Assert.Equal(new Dictionary<string, string> { ["sub/app.js"] = "console.log(1)\n", ["top.txt"] = "top\n" },
                    await TarGzFilesAsync(await archive.Content.ReadAsStreamAsync()));
            }
            // The copy-only stage's link: its file, taken out of make's container, under its own stage.
            var grabbed = LinksPrintedBy("show-run");
            Assert.Equal([$"{reporter}/runs/{runId}/artifacts/grab/grabbed/report.txt"], grabbed);
            using (var file = await GetWhenListedAsync(http, grabbed[0]))
                Assert.Equal(report, await file.Content.ReadAsByteArrayAsync());

            // No made-up archive: a directory the run did not archive, a climb out of the store.
            foreach (var other in new[] { prefix + "tmp/out.tar.gz", prefix + "packed.tar.gz/..%2F..%2Fx.tar.gz", $"{reporter}/runs/{runId}/artifacts/..%2Fmake/packed/dist.tar.gz" })
            {
                using var refused = await http.GetAsync(other);
                Assert.Equal(System.Net.HttpStatusCode.NotFound, refused.StatusCode);
            }
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

    // The reporter lists the artifacts once it has read `make`'s test.succeeded, which may come after the run's end.
    private static async Task<HttpResponseMessage> GetWhenListedAsync(HttpClient http, string url)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var response = await http.GetAsync(url);
            if (response.StatusCode != System.Net.HttpStatusCode.NotFound || DateTime.UtcNow > deadline)
            {
                Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
                return response;
            }
            response.Dispose();
            await Task.Delay(500);
        }
    }

    private static async Task<Dictionary<string, string>> TarGzFilesAsync(Stream body)
    {
        var files = new Dictionary<string, string>();
        await using var gzip = new GZipStream(body, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        for (var i = 0; i < 100 && await reader.GetNextEntryAsync(copyData: true) is { } entry; i++)
        {
            Assert.Equal(TarEntryType.RegularFile, entry.EntryType);
            using var content = new StreamReader(entry.DataStream!, Encoding.UTF8);
            files[entry.Name] = await content.ReadToEndAsync();
        }
        return files;
    }
}
