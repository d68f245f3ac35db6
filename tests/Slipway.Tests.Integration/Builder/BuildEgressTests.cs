using System.Net;
using System.Net.Sockets;
using Docker.DotNet.Models;
using Slipway.Builder.Building;
using Slipway.Builder.Building.Egress;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// Build steps have no general network egress (issues 10, 11): BuildKit runs a step that installs on the engine's
/// default bridge, where it reaches the package mirror only through the allow-list proxy, never another container,
/// the host or the mirror directly; a build that installs nothing runs with network none. Real engine (BuildKit),
/// real mirror, real firewall rules.
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
        BridgeAddress.Of(await scope.Docker.Networks.InspectNetworkAsync(network), "docker0").Gateway;

    [Fact]
    public async Task A_build_step_cannot_reach_a_listener_container_the_host_or_the_mirror_directly()
    {
        await using var scope = new DockerTestScope();
        var f = new ImageBuildFixture(scope);
        var tag = "";
        try
        {
            var (listenerId, listenerAddress) = await StartListenerContainerAsync(scope);
            // The egress path exists before the build so the test knows the proxy's port and firewall tag.
            var route = await f.Egress.ForBuildAsync(installsPackages: true, CancellationToken.None);
            Assert.Equal("default", route.Mode);
            tag = f.Egress.Firewall!.Tag;
            Assert.Contains(tag, await BridgeFirewall.TagsAsync());
            using var onGateway = new HostListener(await GatewayAsync(scope, BuildEgress.DefaultBridge));
            using var onLoopback = new HostListener(IPAddress.Loopback);
            var mirrorHost = new Uri(AptMirrorSources.Read("/etc/apt")[0]).Host;
            var mirror = (await Dns.GetHostAddressesAsync(mirrorHost)).First(a => a.AddressFamily == AddressFamily.InterNetwork);

            var targets = new[] { $"{listenerAddress}/8080", onGateway.Target, onLoopback.Target, $"{mirror}/80", $"{mirror}/443" };
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
            var lines = f.StepOutput();
            var output = string.Join('\n', lines);
            foreach (var t in targets)
                Assert.True(lines.Any(l => l.Trim() == $"BLOCKED {t}"), $"no BLOCKED {t} in:\n{output}");
            Assert.DoesNotContain(lines, l => l.Contains("REACHED", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Trim() == "PROXY HTTP/1.1 403 Forbidden");
            Assert.True(f.Egress.Proxy!.Refused >= 1);

            // A step that must connect fails the build, with the step's failure as the reason.
            var direct = await f.BuildAsync(context, "direct");
            Assert.False(direct.Succeeded);
            Assert.Equal(BuildFailureKind.BuildStep, direct.Failure);
            Assert.Contains("exit code: 124", direct.Reason);
            Assert.StartsWith("step [", direct.Reason);

            Assert.DoesNotContain("CONNECTION", await LogsAsync(scope, listenerId));
            Assert.False(onGateway.SawConnection);
            Assert.False(onLoopback.SawConnection);
            Assert.Contains(tag, await BridgeFirewall.TagsAsync());
        }
        finally
        {
            foreach (var c in await scope.Docker.Containers.ListContainersAsync(new ContainersListParameters { All = true }))
                if (c.Labels is { } labels && labels.TryGetValue(DockerTestScope.LabelKey, out var owner) && owner == scope.Id)
                    await scope.Docker.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true });
            await f.DisposeAsync();
        }
        // The builder removes what it made: its proxy and its firewall rules.
        Assert.DoesNotContain(tag, await BridgeFirewall.TagsAsync());
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
        Assert.Contains("# Network: default\n", await File.ReadAllTextAsync(result.LogPath!));
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

        var plain = await f.BuildAsync(context, "plain");
        var installs = await f.BuildAsync(context, "installs");

        Assert.True(plain.Succeeded, plain.Reason);
        Assert.True(installs.Succeeded, installs.Reason);
        // The mode sent to BuildKit; Build_steps_have_no_network_when_the_request_says_none shows what none means in a step.
        Assert.Contains("# Network: none\n", await File.ReadAllTextAsync(plain.LogPath!));
        Assert.Contains("# Network: default\n", await File.ReadAllTextAsync(installs.LogPath!));
        Assert.Contains(plain.Steps, s => s.Name.Contains("RUN", StringComparison.Ordinal));
        // The install step saw loopback and its one interface on the default bridge.
        var (_, netdev) = await scope.RunAsync(installs.ImageId!, ["cat", "/srv/app/netdev.txt"]);
        Assert.Equal(["eth0", "lo"], netdev.Split('\n').Skip(2).Where(l => l.Contains(':')).Select(l => l.Split(':')[0].Trim()).Order());
    }
}
