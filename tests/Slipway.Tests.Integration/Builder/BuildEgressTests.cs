using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Docker.DotNet.Models;
using Slipway.Builder.Building;
using Slipway.Builder.Building.Egress;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// Build steps have no general network egress (issue 10): a step that installs runs on the builder's internal
/// network and reaches the package mirror only through the allow-list proxy, never another container, the host
/// or the mirror directly, nor another container on the build network; a build that installs nothing runs with
/// network none. Real engine, real mirror.
/// </summary>
public sealed class BuildEgressTests
{
    private static string Base => ImageBuildFixture.Base;

    /// <summary>A TCP listener the test owns on one host address; counts the connections it was offered.</summary>
    private sealed class HostListener : IDisposable
    {
        private readonly TcpListener _listener;

        public HostListener(IPAddress address)
        {
            _listener = new TcpListener(address, 0);
            _listener.Start();
        }

        public string Target => $"{((IPEndPoint)_listener.LocalEndpoint).Address}/{((IPEndPoint)_listener.LocalEndpoint).Port}";
        public bool SawConnection => _listener.Pending();
        public void Dispose() => _listener.Stop();
    }

    /// <summary>A container on the engine's default bridge that prints one line per connection to port 8080.</summary>
    private static async Task<(string Id, string Address)> StartListenerContainerAsync(DockerTestScope scope)
    {
        var created = await scope.Docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = Base,
            Labels = new Dictionary<string, string>(scope.Labels),
            Entrypoint = ["perl", "-MIO::Socket::INET", "-e",
                "$|=1; my $s = IO::Socket::INET->new(LocalPort => 8080, Listen => 5, ReuseAddr => 1) or die; print qq(listening\\n); " +
                "while (my $c = $s->accept) { print qq(CONNECTION from ), $c->peerhost, qq(\\n); close $c }"],
            HostConfig = new HostConfig { NetworkMode = "bridge" },
        });
        await scope.Docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters());
        var inspect = await scope.Docker.Containers.InspectContainerAsync(created.ID);
        var address = inspect.NetworkSettings.Networks["bridge"].IPAddress;
        for (var i = 0; i < 50 && !(await LogsAsync(scope, created.ID)).Contains("listening", StringComparison.Ordinal); i++) await Task.Delay(100);
        return (created.ID, address);
    }

    private static async Task<string> LogsAsync(DockerTestScope scope, string id)
    {
        using var logs = await scope.Docker.Containers.GetContainerLogsAsync(id, false, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true });
        var (stdout, stderr) = await logs.ReadOutputToEndAsync(CancellationToken.None);
        return stdout + stderr;
    }

    private static async Task<IPAddress> GatewayAsync(DockerTestScope scope, string network) =>
        IPAddress.Parse((await scope.Docker.Networks.InspectNetworkAsync(network)).IPAM.Config[0].Gateway);

    private static string RuleTag(DockerTestScope scope) =>
        HostFirewallGuard.Tag(BuildEgress.BridgeNameFor(ImageBuildFixture.EgressNetwork(scope)));

    private static async Task<string> IptablesInputAsync()
    {
        using var p = Process.Start(new ProcessStartInfo("iptables", "-w 5 -S INPUT") { RedirectStandardOutput = true })!;
        var text = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return text;
    }

    [Fact]
    public async Task A_build_step_cannot_reach_a_listener_container_the_host_or_the_mirror_directly()
    {
        await using var scope = new DockerTestScope();
        var f = new ImageBuildFixture(scope);
        try
        {
            var (listenerId, listenerAddress) = await StartListenerContainerAsync(scope);
            // The egress path exists before the build so the test can listen on its gateway too.
            var route = await f.Egress.ForBuildAsync(installsPackages: true, CancellationToken.None);
            Assert.Equal(ImageBuildFixture.EgressNetwork(scope), route.Mode);
            var gateway = await GatewayAsync(scope, route.Mode);
            // The listener also joins the build network, as a concurrent build's container would be.
            await scope.Docker.Networks.ConnectNetworkAsync(route.Mode, new NetworkConnectParameters { Container = listenerId });
            var neighbour = (await scope.Docker.Containers.InspectContainerAsync(listenerId)).NetworkSettings.Networks[route.Mode].IPAddress;
            using var onGateway = new HostListener(gateway);
            using var onDocker0 = new HostListener(await GatewayAsync(scope, "bridge"));
            using var onLoopback = new HostListener(IPAddress.Loopback);
            var mirrorHost = new Uri(AptMirrorSources.Read("/etc/apt")[0]).Host;
            var mirror = (await Dns.GetHostAddressesAsync(mirrorHost)).First(a => a.AddressFamily == AddressFamily.InterNetwork);

            var targets = new[] { $"{listenerAddress}/8080", $"{neighbour}/8080", onGateway.Target, onDocker0.Target, onLoopback.Target, $"{mirror}/80" };
            // Each target is tried directly; then the proxy is asked to CONNECT to the listener container.
            var probeScript = $$"""
                #!/bin/bash
                for t in {{string.Join(' ', targets)}}; do
                  if timeout 5 bash -c "echo x > /dev/tcp/$t" 2>/dev/null; then echo "REACHED $t"; else echo "BLOCKED $t"; fi
                done
                p=${http_proxy#http://}
                exec 3<>"/dev/tcp/${p%:*}/${p##*:}"
                printf 'CONNECT {{listenerAddress}}:8080 HTTP/1.1\r\n\r\n' >&3
                echo "PROXY $(head -n 1 <&3 | tr -d '\r')"
                """;
            var context = f.Context(new Dictionary<string, string?>
            {
                [".pipeline/blubber.yaml"] = $"""
                    version: v4
                    base: {Base}
                    variants:
                      probe:
                        builder:
                          command: [bash, probe.sh]
                          requirements: [probe.sh]
                      direct:
                        builder:
                          command: [bash, direct.sh]
                          requirements: [direct.sh]
                    """,
                ["probe.sh"] = probeScript + "\n",
                ["direct.sh"] = $"#!/bin/bash\ntimeout 10 bash -c 'echo x > /dev/tcp/{listenerAddress}/8080'\n",
            });

            var probe = await f.BuildAsync(context, "probe");
            Assert.True(probe.Succeeded, probe.Reason + "\n" + probe.OutputTail);
            var output = string.Join('\n', f.Lines);
            foreach (var t in targets)
                Assert.True(f.Lines.Any(l => l.Trim() == $"BLOCKED {t}"), $"no BLOCKED {t} in:\n{output}");
            Assert.DoesNotContain(f.Lines, l => l.Contains("REACHED", StringComparison.Ordinal));
            Assert.Contains(f.Lines, l => l.Trim() == "PROXY HTTP/1.1 403 Forbidden");
            Assert.True(f.Egress.Proxy!.Refused >= 1);

            // A step that must connect fails the build, with the step's failure as the reason.
            var direct = await f.BuildAsync(context, "direct");
            Assert.False(direct.Succeeded);
            Assert.Equal(BuildFailureKind.BuildStep, direct.Failure);
            Assert.Contains("returned a non-zero code: 124", direct.Reason);

            Assert.DoesNotContain("CONNECTION", await LogsAsync(scope, listenerId));
            Assert.False(onGateway.SawConnection);
            Assert.False(onDocker0.SawConnection);
            Assert.False(onLoopback.SawConnection);
            Assert.Contains(RuleTag(scope), await IptablesInputAsync());
        }
        finally
        {
            foreach (var c in await scope.Docker.Containers.ListContainersAsync(new ContainersListParameters { All = true }))
                if (c.Labels is { } labels && labels.TryGetValue(DockerTestScope.LabelKey, out var owner) && owner == scope.Id)
                    await scope.Docker.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true });
            await f.DisposeAsync(); // the network can go once the listener left it
        }
        // The builder removes what it made: its network and its firewall rules.
        await Assert.ThrowsAsync<Docker.DotNet.DockerNetworkNotFoundException>(() => scope.Docker.Networks.InspectNetworkAsync(ImageBuildFixture.EgressNetwork(scope)));
        Assert.DoesNotContain(RuleTag(scope), await IptablesInputAsync());
    }

    [Fact]
    public async Task An_apt_install_from_the_mirror_works_through_the_proxy_and_leaves_no_proxy_in_the_image()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"""
                version: v4
                base: {Base}
                variants:
                  hello:
                    apt: {"{"} packages: [hello] {"}"}
                    entrypoint: [hello]
                """,
        });

        var result = await f.BuildAsync(context, "hello", timeLimit: TimeSpan.FromMinutes(10));

        Assert.True(result.Succeeded, result.Reason + "\n" + result.OutputTail);
        Assert.Contains($"# Network: {ImageBuildFixture.EgressNetwork(scope)}\n", await File.ReadAllTextAsync(result.LogPath!));
        var (exit, output) = await scope.RunAsync(result.ImageId!);
        Assert.Equal(0, exit);
        Assert.Equal("Hello, world!", output.Trim());
        var image = await scope.Docker.Images.InspectImageAsync(result.ImageId);
        Assert.DoesNotContain(image.Config.Env, e => e.Contains("proxy", StringComparison.OrdinalIgnoreCase));
        var history = await scope.Docker.Images.GetImageHistoryAsync(result.ImageId);
        Assert.DoesNotContain(history, h => h.CreatedBy.Contains("proxy", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_variant_that_installs_nothing_runs_its_steps_with_network_none()
    {
        await using var scope = new DockerTestScope();
        await using var f = new ImageBuildFixture(scope);
        var context = f.Context(new Dictionary<string, string?>
        {
            [".pipeline/blubber.yaml"] = $"""
                version: v4
                base: {Base}
                # A user name of this test's own: the user-creation RUN steps are not served from another build's cache.
                lives: {"{"} as: l{scope.Id} {"}"}
                variants:
                  plain:
                    copies: [local]
                  installs:
                    builder:
                      command: [sh, -c, "cat /proc/net/dev > netdev.txt"]
                """,
        });

        // Every container the engine creates while the builds run is inspected as it is created.
        var modes = new Dictionary<string, string>();
        var inspections = new List<Task>();
        using var watching = new CancellationTokenSource();
        var events = scope.Docker.System.MonitorEventsAsync(new ContainerEventsParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["type"] = new Dictionary<string, bool> { ["container"] = true }, ["event"] = new Dictionary<string, bool> { ["create"] = true },
            },
        }, new Progress<Message>(m =>
        {
            lock (inspections)
                inspections.Add(Task.Run(async () =>
                {
                    try
                    {
                        var c = await scope.Docker.Containers.InspectContainerAsync(m.ID);
                        lock (modes) modes[c.ID] = c.HostConfig.NetworkMode;
                    }
                    catch (Docker.DotNet.DockerContainerNotFoundException) { }
                }));
        }), watching.Token);
        await Task.Delay(500);

        var plain = await f.BuildAsync(context, "plain");
        var plainSteps = RunningIn(f.Lines);
        var installs = await f.BuildAsync(context, "installs");
        var installSteps = RunningIn(f.Lines).Except(plainSteps).ToList();
        await Task.Delay(500);
        await watching.CancelAsync();
        try { await events; } catch (OperationCanceledException) { }
        Task[] pending;
        lock (inspections) pending = [.. inspections];
        await Task.WhenAll(pending);

        Assert.True(plain.Succeeded, plain.Reason);
        Assert.True(installs.Succeeded, installs.Reason);
        Assert.Contains("# Network: none\n", await File.ReadAllTextAsync(plain.LogPath!));
        // Metadata-only steps (USER, ENV) create and drop a container within milliseconds and may be gone before
        // they are inspected; the RUN steps live long enough, so each build has some inspected step containers.
        var plainModes = modes.Where(m => plainSteps.Any(s => m.Key.StartsWith(s, StringComparison.Ordinal))).Select(m => m.Value).ToList();
        var installModes = modes.Where(m => installSteps.Any(s => m.Key.StartsWith(s, StringComparison.Ordinal))).Select(m => m.Value).ToList();
        Assert.True(plainModes.Count >= 2, $"{plainModes.Count} of {plainSteps.Count} step containers inspected");
        Assert.All(plainModes, m => Assert.Equal("none", m));
        Assert.True(installModes.Count >= 1, $"{installModes.Count} of {installSteps.Count} step containers inspected");
        Assert.All(installModes, m => Assert.Equal(ImageBuildFixture.EgressNetwork(scope), m));
        // The install step saw only loopback and its one interface on the internal network.
        var (_, netdev) = await scope.RunAsync(installs.ImageId!, ["cat", "/srv/app/netdev.txt"]);
        Assert.Equal(["eth0", "lo"], netdev.Split('\n').Skip(2).Where(l => l.Contains(':')).Select(l => l.Split(':')[0].Trim()).Order());
    }

    /// <summary>The step containers a classic build reported (<c> ---&gt; Running in abc123</c>).</summary>
    private static List<string> RunningIn(List<string> lines)
    {
        lock (lines)
            return lines.Select(l => l.Trim()).Where(l => l.StartsWith("---> Running in ", StringComparison.Ordinal)).Select(l => l["---> Running in ".Length..].Trim()).ToList();
    }
}
