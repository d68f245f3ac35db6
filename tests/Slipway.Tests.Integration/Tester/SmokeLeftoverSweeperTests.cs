using Docker.DotNet.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Tester;
using Slipway.Tester.Smoke;
using Slipway.Tester.Testing;

namespace Slipway.Tests.Integration.Tester;

/// <summary>
/// What a killed tester's smoke steps leave on the real engine is removed by the sweeper once older than any smoke step
/// lives; younger smoke objects (a step still running) and other containers are never touched.
/// </summary>
[Collection(TesterImagesCollection.Name)]
public sealed class SmokeLeftoverSweeperTests(TesterImages images)
{
    private SmokeLeftoverSweeper Sweeper(int minutes) =>
        new(images.Docker, new TesterOptions { SmokeLeftoverMinutes = minutes }, TimeProvider.System, NullLogger<SmokeLeftoverSweeper>.Instance)
        {
            AlsoLabelled = [$"{images.RunLabel}={images.Unique}"], // only this test's objects: other tests' smoke steps share the engine
        };

    private Dictionary<string, string> LabelsOf(string stepKind) =>
        new(images.Labels) { [TestRunner.ComponentLabel] = "tester", ["slipway.step-kind"] = stepKind };

    [Fact]
    public async Task Smoke_containers_and_networks_older_than_the_limit_are_removed_and_nothing_else()
    {
        var smoke = (await images.Docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = images.ServiceImage, Labels = LabelsOf("smoke"),
        })).ID;
        var testStep = (await images.Docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = images.ServiceImage, Labels = LabelsOf("test"),
        })).ID;
        await images.Docker.Networks.CreateNetworkAsync(new NetworksCreateParameters
        {
            Name = $"slipway-smoke-{images.Unique}-left", Driver = "bridge", Internal = true, Labels = LabelsOf("smoke"),
        });
        try
        {
            // Made just now: a step that may still be running; the default limit leaves it.
            Assert.Equal((0, 0), await Sweeper(60).SweepAsync(CancellationToken.None));
            Assert.Equal((2, 1), await images.LeftoversAsync());

            // Older than the limit (0 minutes): the smoke container and network go, the test step's container stays.
            Assert.Equal((1, 1), await Sweeper(0).SweepAsync(CancellationToken.None));
            var left = await images.Docker.Containers.ListContainersAsync(new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{images.RunLabel}={images.Unique}"] = true } },
            });
            Assert.Equal([testStep], left.Select(c => c.ID));
            Assert.DoesNotContain(smoke, left.Select(c => c.ID));
        }
        finally
        {
            foreach (var id in new[] { smoke, testStep })
                try { await images.Docker.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }); }
                catch (Docker.DotNet.DockerContainerNotFoundException) { }
            try { await images.Docker.Networks.DeleteNetworkAsync($"slipway-smoke-{images.Unique}-left"); }
            catch (Docker.DotNet.DockerNetworkNotFoundException) { }
        }
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }
}
