using Docker.DotNet;
using Slipway.Containers;

namespace Slipway.Tests.Integration.Builder;

/// <summary>The infrastructure the builder tests need, as `./slipway test` exports it (same keys as the services read).</summary>
public static class BuilderTestEnvironment
{
    /// <summary>The local Debian base image in the local registry, e.g. <c>127.0.0.1:5000/slipway/debian:bookworm</c>.</summary>
    public static string BaseImage => Require("Slipway__BaseImage");

    public static string DockerEndpoint => Environment.GetEnvironmentVariable("Docker__Endpoint") is { Length: > 0 } e ? e : "unix:///var/run/docker.sock";

    /// <summary>Pull credentials for the local registry (the base image's registry).</summary>
    public static RegistryOptions Registry => new()
    {
        Url = Require("Registry__Url"), Username = Require("Registry__Username"), Password = Require("Registry__Password"),
    };

    public static DockerClient CreateDockerClient() => new DockerClientConfiguration(new Uri(DockerEndpoint)).CreateClient();

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the integration tests through `./slipway test`, which starts the embedded infrastructure");
}
