using Docker.DotNet.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Tester;
using Slipway.Tester.Testing;

namespace Slipway.Tests.Integration.Tester;

/// <summary>
/// A container's output is also kept by the engine, on the host's disk: for test and smoke containers that
/// copy is bounded (json-file max-size × max-file), whatever the daemon's defaults.
/// </summary>
[Collection(TesterImagesCollection.Name)]
public sealed class ContainerLogTests(TesterImages images)
{
    [Fact]
    public async Task A_test_that_floods_its_output_leaves_a_bounded_log_on_the_host()
    {
        const long maxBytes = 1024 * 1024;
        const int maxFiles = 2;
        var runner = new TestRunner(images.Docker, new TesterOptions { ContainerLogMaxBytes = maxBytes, ContainerLogMaxFiles = maxFiles }, NullLogger<TestRunner>.Instance);
        var step = "floodlog-" + Guid.NewGuid().ToString("N")[..8];
        var labels = new Dictionary<string, string>(images.Labels) { ["slipway.step"] = step };
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        // floodwait: 30 MB of output, then "done flooding", then it sleeps so the log can be measured before removal.
        var run = runner.RunAsync(new TestRunRequest { Image = images.TestImage, Arguments = ["floodwait"], Labels = labels, TimeLimit = TimeSpan.FromMinutes(3) }, cts.Token);
        try
        {
            var id = await ContainerWithLabelAsync("slipway.step=" + step);
            await LogEndsWithAsync(id, "done flooding");

            var inspect = await images.Docker.Containers.InspectContainerAsync(id);
            Assert.Equal("json-file", inspect.HostConfig.LogConfig.Type);
            Assert.Equal(("1048576", "2"), (inspect.HostConfig.LogConfig.Config["max-size"], inspect.HostConfig.LogConfig.Config["max-file"]));
            Assert.True(File.Exists(inspect.LogPath), $"the engine's log file {inspect.LogPath} is not visible here");
            var files = Directory.GetFiles(Path.GetDirectoryName(inspect.LogPath)!, Path.GetFileName(inspect.LogPath) + "*");
            var onDisk = files.Sum(f => new FileInfo(f).Length);
            // 30 MB printed (about 55 MB as json-file lines); at most max-file files of max-size kept, plus one line of slack.
            Assert.InRange(onDisk, 1, maxBytes * maxFiles + 64 * 1024);
            Assert.InRange(files.Length, 1, maxFiles);
        }
        finally
        {
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    private async Task<string> ContainerWithLabelAsync(string label)
    {
        var filter = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [label] = true } };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if ((await images.Docker.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = filter })).FirstOrDefault() is { } c) return c.ID;
            await Task.Delay(100);
        }
        throw new TimeoutException($"no container labelled {label} within 60 s");
    }

    private async Task LogEndsWithAsync(string id, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            using var stream = await images.Docker.Containers.GetContainerLogsAsync(id, false, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Tail = "1" });
            var (stdout, stderr) = await stream.ReadOutputToEndAsync(CancellationToken.None);
            if ((stdout + stderr).TrimEnd().EndsWith(text, StringComparison.Ordinal)) return;
            await Task.Delay(500);
        }
        throw new TimeoutException($"the container's log did not end with '{text}' within 120 s");
    }
}
