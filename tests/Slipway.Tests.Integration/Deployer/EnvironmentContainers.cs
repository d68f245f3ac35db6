using System.Diagnostics;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Slipway.Tests.Integration.Deployer;

/// <summary>The containers a deployer test's own environment holds, and its bare configuration registry.</summary>
internal static class EnvironmentContainers
{
    public static async Task<IList<ContainerListResponse>> ListAsync(IDockerClient docker, string environment) =>
        await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"slipway.environment={environment}"] = true },
            },
        });

    /// <summary>The images the environment's running containers run (as the deployer labelled them), sorted.</summary>
    public static async Task<List<string>> RunningImagesAsync(IDockerClient docker, string environment) =>
        (await ListAsync(docker, environment)).Where(c => c.State == "running")
        .Select(c => c.Labels.TryGetValue("slipway.image", out var image) ? image : c.Image).Order().ToList();

    /// <summary>Removes every container of the environment (a test's clean-up, also after a failure).</summary>
    public static async Task RemoveAllAsync(IDockerClient docker, string environment)
    {
        foreach (var container in await ListAsync(docker, environment))
        {
            try { await docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true }); }
            catch (DockerContainerNotFoundException) { }
        }
    }

    /// <summary>git against the bare configuration registry under <paramref name="root"/>; its trimmed output.</summary>
    public static string Bare(string root, params string[] args)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--git-dir=" + Path.Combine(root, "registry.git"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var git = Process.Start(start)!;
        var output = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        return output.Trim();
    }
}
