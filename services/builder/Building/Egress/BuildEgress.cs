using System.Net;
using System.Security.Cryptography;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Slipway.Builder.Building.Egress;

/// <summary>The network a build's steps run on and the build args that route them through the proxy.</summary>
public sealed record BuildNetwork(string Mode, IDictionary<string, string> BuildArgs);

/// <summary>
/// Chooses each build's network and owns the egress path: builds that install nothing get <c>none</c>; builds that
/// install get the builder's internal Docker network (no route out, no traffic between containers), on which the
/// only reachable endpoint is the allow-list <see cref="EgressProxy"/> listening on the network's gateway, with
/// <c>http_proxy</c>/<c>https_proxy</c> build args (Docker's predefined proxy args: not kept in the image, not in
/// the cache key). Everything is created on first use and removed when the builder stops.
/// </summary>
public sealed class BuildEgress(IDockerClient docker, BuildEgressOptions options, BuilderOptions builder, ILogger<BuildEgress> logger)
    : IAsyncDisposable, IHostedService
{
    public const string OwnerLabel = "slipway.egress";

    /// <summary>Which process made the network: <c>machine-id:pid:start-time</c>, so a later builder can remove it once that process is gone.</summary>
    public const string ProcessLabel = "slipway.egress.process";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _networkName = options.NetworkName is { Length: > 0 } name ? name
        : "slipway-build-egress-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(builder.LogDir))))[..10];
    private Route? _route;

    private sealed record Route(string Network, EgressProxy Proxy, HostFirewallGuard? Guard, IDictionary<string, string> BuildArgs);

    /// <summary>The proxy of the egress path once it is up (tests read its endpoint and refusal count).</summary>
    public EgressProxy? Proxy => _route?.Proxy;

    /// <summary>The internal network builds that install packages run on.</summary>
    public string NetworkName => _networkName;

    public async Task<BuildNetwork> ForBuildAsync(bool installsPackages, CancellationToken ct)
    {
        if (!options.Enabled) return new BuildNetwork(builder.Network, new Dictionary<string, string>());
        if (!installsPackages) return new BuildNetwork("none", new Dictionary<string, string>());
        var route = await EnsureRouteAsync(ct);
        return new BuildNetwork(route.Network, new Dictionary<string, string>(route.BuildArgs));
    }

    private async Task<Route> EnsureRouteAsync(CancellationToken ct)
    {
        if (_route is { } ready) return ready;
        await _gate.WaitAsync(ct);
        try
        {
            if (_route is { } raced) return raced;
            var network = await EnsureNetworkAsync(ct);
            var ipam = network.IPAM?.Config?.FirstOrDefault(c => IPAddress.TryParse(c.Gateway, out var g) && g.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                ?? throw new InvalidOperationException($"network {_networkName} has no IPv4 gateway");
            var gateway = IPAddress.Parse(ipam.Gateway);
            var subnet = IPNetwork.Parse(ipam.Subnet);
            var allow = EgressAllowList.From(options);
            var proxy = EgressProxy.Start(new IPEndPoint(gateway, options.ProxyPort), allow, AddressGuard.ForThisHost(options.AllowedPrivateNetworks),
                subnet, options, logger);
            HostFirewallGuard? guard = null;
            try
            {
                if (options.GuardHost)
                {
                    guard = new HostFirewallGuard(BridgeName(network), gateway, proxy.Endpoint.Port);
                    await guard.InstallAsync(ct);
                }
            }
            catch
            {
                await proxy.DisposeAsync();
                throw;
            }
            var url = $"http://{gateway}:{proxy.Endpoint.Port}";
            var args = new Dictionary<string, string>
            {
                ["http_proxy"] = url, ["https_proxy"] = url, ["HTTP_PROXY"] = url, ["HTTPS_PROXY"] = url,
                ["no_proxy"] = "", ["NO_PROXY"] = "",
            };
            logger.LogInformation("Build egress on network {Network}: proxy {Proxy}, allowed {Allowed}, host guarded: {Guarded}",
                _networkName, url, string.Join(", ", allow.Entries), guard is not null);
            return _route = new Route(_networkName, proxy, guard, args);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The builder's own internal network: reused if a previous run left it, refused if someone else's is in the way.</summary>
    private async Task<NetworkResponse> EnsureNetworkAsync(CancellationToken ct)
    {
        try
        {
            var existing = await docker.Networks.InspectNetworkAsync(_networkName, ct);
            if (!existing.Internal || existing.Labels?.ContainsKey(OwnerLabel) != true || existing.Driver != "bridge")
                throw new InvalidOperationException(
                    $"Docker network {_networkName} exists but is not an internal bridge network created by Slipway; remove it or set Builder:Egress:NetworkName");
            return existing;
        }
        catch (DockerNetworkNotFoundException) { }
        await RemoveAbandonedAsync(ct);
        await docker.Networks.CreateNetworkAsync(new NetworksCreateParameters
        {
            Name = _networkName,
            Driver = "bridge",
            Internal = true,
            CheckDuplicate = true,
            Options = new Dictionary<string, string>
            {
                ["com.docker.network.bridge.name"] = BridgeNameFor(_networkName),
                ["com.docker.network.bridge.enable_icc"] = "false",
                ["com.docker.network.bridge.enable_ip_masquerade"] = "false",
            },
            Labels = ThisProcess() is { } me
                ? new Dictionary<string, string> { [OwnerLabel] = "1", [ProcessLabel] = me }
                : new Dictionary<string, string> { [OwnerLabel] = "1" },
        }, ct);
        return await docker.Networks.InspectNetworkAsync(_networkName, ct);
    }

    /// <summary>
    /// Egress networks (and their firewall rules) left by builder processes of this machine that were killed
    /// before they could clean up. Only networks whose recorded process is provably gone are touched; the
    /// engine refuses to remove one that still has containers.
    /// </summary>
    private async Task RemoveAbandonedAsync(CancellationToken ct)
    {
        if (ThisProcess() is not { } me) return;
        var machine = me.Split(':')[0];
        var networks = await docker.Networks.ListNetworksAsync(new NetworksListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [OwnerLabel] = true } },
        }, ct);
        foreach (var network in networks)
        {
            if (network.Labels?.TryGetValue(ProcessLabel, out var owner) != true || owner.Split(':') is not [var m, var pid, var start]
                || m != machine || ProcessStart(pid) == start)
                continue;
            try
            {
                await docker.Networks.DeleteNetworkAsync(network.ID, ct);
                await new HostFirewallGuard(BridgeName(network), IPAddress.Any, 0).RemoveAsync();
                logger.LogInformation("Removed build egress network {Network} left by a builder that is gone", network.Name);
            }
            catch (DockerApiException e)
            {
                logger.LogInformation("Abandoned build egress network {Network} not removed: {Error}", network.Name, e.Message);
            }
        }
    }

    private static string? ThisProcess()
    {
        try
        {
            var machine = File.ReadAllText("/etc/machine-id").Trim();
            var pid = Environment.ProcessId.ToString();
            return machine.Length > 0 && ProcessStart(pid) is { } start ? $"{machine}:{pid}:{start}" : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Start time (field 22 of /proc/PID/stat) of a live process, or null: tells a reused pid apart.</summary>
    private static string? ProcessStart(string pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 ? fields[19] : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static string BridgeName(NetworkResponse network) =>
        network.Options?.TryGetValue("com.docker.network.bridge.name", out var name) == true ? name : "br-" + network.ID[..12];

    /// <summary>A stable interface name (at most 15 characters) for the network, so the firewall rules can name it.</summary>
    public static string BridgeNameFor(string network) =>
        "swe-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(network)))[..11];

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A graceful stop (SIGTERM) removes the proxy, the firewall rules and the network.</summary>
    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (_route is not { } route) return;
        _route = null;
        await route.Proxy.DisposeAsync();
        if (route.Guard is not null) await route.Guard.RemoveAsync();
        try
        {
            await docker.Networks.DeleteNetworkAsync(route.Network);
        }
        catch (DockerApiException e)
        {
            logger.LogInformation("Build egress network {Network} not removed: {Error}", route.Network, e.Message);
        }
    }
}
