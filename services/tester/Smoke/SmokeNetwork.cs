using Docker.DotNet;
using Docker.DotNet.Models;
using Slipway.Tester.Testing;

namespace Slipway.Tester.Smoke;

/// <summary>
/// The smoke step's isolation, made on the engine: a per-step <c>internal</c> network whose bridge has no address on the
/// host, and the trusted forwarder (<see cref="PortForwarder"/>) on the default bridge that publishes the service's port on
/// 127.0.0.1. Made by <see cref="SmokeTester"/> for its step, or ahead of it by <see cref="SmokeWarmPairs"/>.
/// </summary>
internal static class SmokeNetwork
{
    /// <summary>The step's names: the service container is <c>slipway-smoke-{id}</c>, on the network of the same name.</summary>
    public static string ServiceName(string id) => $"slipway-smoke-{id}";

    public static string NetworkName(string id) => $"slipway-smoke-{id}";

    public static string ForwarderName(string id) => $"slipway-smoke-{id}-fwd";

    public static async Task<string> CreateNetworkAsync(IDockerClient docker, string name, IDictionary<string, string> labels, CancellationToken ct) =>
        (await docker.Networks.CreateNetworkAsync(new NetworksCreateParameters
        {
            Name = name, Driver = "bridge", Internal = true, CheckDuplicate = true, Labels = labels,
            // `internal` only stops forwarding: the bridge still has the gateway address on the build host, so
            // the service could connect to every host listener on 0.0.0.0 through it. No address, no route in.
            Options = new Dictionary<string, string> { [SmokeTester.InhibitBridgeAddress] = "true" },
        }, ct).ConfigureAwait(false)).ID;

    /// <summary>
    /// Creates (not starts) the forwarder to <paramref name="target"/>: the service's address, or its container name, which
    /// the engine's DNS on the step's network resolves once the service exists (each connection resolves it anew).
    /// </summary>
    public static async Task<string> CreateForwarderAsync(IDockerClient docker, TesterOptions options, string id, IDictionary<string, string> labels,
        string target, int servicePort, CancellationToken ct)
    {
        var host = TestRunner.Isolation(options, "bridge");
        host.Memory = host.MemorySwap = Math.Min(options.MemoryBytes, 128L * 1024 * 1024);
        host.PortBindings = Loopback($"{PortForwarder.ListenPort}/tcp");
        return (await docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Name = ForwarderName(id),
            Image = options.SmokeForwarderImage,
            Entrypoint = ["perl", "-e", PortForwarder.Script],
            Cmd = [target, servicePort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            User = "65534:65534", // nobody: even trusted code needs no root here
            Labels = labels,
            ExposedPorts = new Dictionary<string, EmptyStruct> { [$"{PortForwarder.ListenPort}/tcp"] = default },
            HostConfig = host,
        }, ct).ConfigureAwait(false)).ID;
    }

    /// <summary>Joins the forwarder to the step's network and starts it; returns the 127.0.0.1 port it was published on.</summary>
    public static async Task<string> StartForwarderAsync(IDockerClient docker, string networkId, string forwarderId, CancellationToken ct)
    {
        await docker.Networks.ConnectNetworkAsync(networkId, new NetworkConnectParameters { Container = forwarderId }, ct).ConfigureAwait(false);
        await docker.Containers.StartContainerAsync(forwarderId, new ContainerStartParameters(), ct).ConfigureAwait(false);
        return await PublishedPortAsync(docker, forwarderId, $"{PortForwarder.ListenPort}/tcp", ct).ConfigureAwait(false);
    }

    public static Dictionary<string, IList<PortBinding>> Loopback(string port) =>
        new() { [port] = [new PortBinding { HostIP = "127.0.0.1", HostPort = "" }] }; // "": Docker picks a free port

    /// <summary>The host port Docker assigned to <paramref name="port"/>, read back after start.</summary>
    public static async Task<string> PublishedPortAsync(IDockerClient docker, string containerId, string port, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var inspect = await docker.Containers.InspectContainerAsync(containerId, ct).ConfigureAwait(false);
            if (inspect.NetworkSettings?.Ports is { } ports && ports.TryGetValue(port, out var bindings) && bindings?.FirstOrDefault(b => b.HostIP == "127.0.0.1") is { HostPort: { Length: > 0 } hostPort })
                return hostPort;
            if (inspect.State is { Running: false }) await ThrowIfExitedAsync(docker, containerId, ct).ConfigureAwait(false);
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
        throw new InvalidOperationException($"Docker published no 127.0.0.1 port for {port}");
    }

    /// <summary>The service (or forwarder) is gone: say how it ended instead of failing on a missing address or port.</summary>
    public static async Task ThrowIfExitedAsync(IDockerClient docker, string containerId, CancellationToken ct)
    {
        var state = (await docker.Containers.InspectContainerAsync(containerId, ct).ConfigureAwait(false)).State;
        if (state is { Running: false }) throw new ServiceExitedException(ServiceExitedException.Describe(state));
    }
}
