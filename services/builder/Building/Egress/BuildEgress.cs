using System.Net;
using Docker.DotNet;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Slipway.Builder.Building.Egress;

/// <summary>The network mode a build's steps run with and the build args that route them through the proxy.</summary>
public sealed record BuildNetwork(string Mode, IDictionary<string, string> BuildArgs);

/// <summary>
/// Chooses each build's network and owns the egress path. dockerd's BuildKit runs build steps only in network mode
/// <c>none</c>, <c>host</c> or <c>default</c> (the engine's default bridge); user-defined networks are refused. So:
/// builds that install nothing get <c>none</c>; builds that install get <c>default</c>, with the allow-list
/// <see cref="EgressProxy"/> listening on the bridge's gateway address, <c>http_proxy</c>/<c>https_proxy</c> build args
/// (Docker's predefined proxy args: not kept in the image, not in the cache key), and <see cref="BridgeFirewall"/>
/// rules that leave the proxy as the only thing a new connection from the bridge can reach. Everything is set up on
/// first use and removed when the builder stops; rules left by a killed builder are removed by the next one.
/// </summary>
public sealed class BuildEgress(IDockerClient docker, BuildEgressOptions options, BuilderOptions builder, ILogger<BuildEgress> logger)
    : IAsyncDisposable, IHostedService
{
    /// <summary>The engine's default bridge network: the one BuildKit's <c>default</c> mode attaches steps to.</summary>
    public const string DefaultBridge = "bridge";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private Route? _route;

    private sealed record Route(EgressProxy Proxy, BridgeFirewall? Firewall, IDictionary<string, string> BuildArgs);

    /// <summary>The proxy of the egress path once it is up (tests read its endpoint and refusal count).</summary>
    public EgressProxy? Proxy => _route?.Proxy;

    /// <summary>The firewall rules of the egress path once they are installed.</summary>
    public BridgeFirewall? Firewall => _route?.Firewall;

    public async Task<BuildNetwork> ForBuildAsync(bool installsPackages, CancellationToken ct)
    {
        if (!options.Enabled) return new BuildNetwork(builder.Network, new Dictionary<string, string>());
        if (!installsPackages) return new BuildNetwork("none", new Dictionary<string, string>());
        var route = await EnsureRouteAsync(ct);
        return new BuildNetwork("default", new Dictionary<string, string>(route.BuildArgs));
    }

    private async Task<Route> EnsureRouteAsync(CancellationToken ct)
    {
        if (_route is { } ready) return ready;
        await _gate.WaitAsync(ct);
        try
        {
            if (_route is { } raced) return raced;
            var network = await docker.Networks.InspectNetworkAsync(DefaultBridge, ct);
            var bridge = network.Options?.TryGetValue("com.docker.network.bridge.name", out var name) == true ? name : "docker0";
            var (gateway, subnet) = BridgeAddress.Of(network, bridge);
            var allow = EgressAllowList.From(options);
            var proxy = EgressProxy.Start(new IPEndPoint(gateway, options.ProxyPort), allow, AddressGuard.ForThisHost(options.AllowedPrivateNetworks),
                subnet, options, logger);
            BridgeFirewall? firewall = null;
            try
            {
                if (options.GuardHost)
                {
                    var me = ProcessIdentity.Current
                        ?? throw new InvalidOperationException("cannot tell this process apart (no /proc or /etc/machine-id): the firewall rules could not be cleaned up after a crash");
                    await BridgeFirewall.RemoveAbandonedAsync(ProcessIdentity.IsAlive);
                    // One tag per egress path, not per process: two builders in one process (tests) never remove each other's rules.
                    firewall = new BridgeFirewall(bridge, gateway, proxy.Endpoint.Port, $"{me}:{Guid.NewGuid().ToString("N")[..8]}");
                    await firewall.InstallAsync(ct);
                }
                else
                {
                    logger.LogWarning("Builder:Egress:GuardHost is off: build steps that install packages can reach everything the {Bridge} bridge reaches, not only the proxy", bridge);
                }
            }
            catch
            {
                if (firewall is not null) await firewall.RemoveAsync();
                await proxy.DisposeAsync();
                throw;
            }
            var url = $"http://{gateway}:{proxy.Endpoint.Port}";
            var args = new Dictionary<string, string>
            {
                ["http_proxy"] = url, ["https_proxy"] = url, ["HTTP_PROXY"] = url, ["HTTPS_PROXY"] = url,
                ["no_proxy"] = "", ["NO_PROXY"] = "",
            };
            logger.LogInformation("Build egress on bridge {Bridge}: proxy {Proxy}, allowed {Allowed}, bridge confined: {Guarded}",
                bridge, url, string.Join(", ", allow.Entries), firewall is not null);
            return _route = new Route(proxy, firewall, args);
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A graceful stop (SIGTERM) removes the proxy and the firewall rules.</summary>
    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (_route is not { } route) return;
        _route = null;
        // Rules first: with the proxy gone and the rules still there, steps would only be refused, never let out.
        if (route.Firewall is not null) await route.Firewall.RemoveAsync();
        await route.Proxy.DisposeAsync();
    }
}
