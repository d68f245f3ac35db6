using System.Formats.Tar;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Slipway.Tests.Integration.Tester;

/// <summary>
/// Builds the small images the tester tests run, from the local base image (Slipway__BaseImage: Debian bookworm
/// with bash and perl-base), and removes them afterwards. Everything is tagged and labelled with a unique id so
/// parallel agents sharing the engine never see each other's images, containers or networks.
/// </summary>
public sealed class TesterImages : IAsyncLifetime
{
    public string Unique { get; } = "wtt" + Guid.NewGuid().ToString("N")[..10];
    public string RunLabel => "slipway.run";
    public IReadOnlyDictionary<string, string> Labels => new Dictionary<string, string> { [RunLabel] = Unique };

    public DockerClient Docker { get; } = new DockerClientConfiguration(new Uri(Require("Docker__Endpoint"))).CreateClient();
    public string BaseImage { get; } = Require("Slipway__BaseImage");

    /// <summary>Non-root (USER 900:900); entry point <c>bash /run.sh MODE</c>.</summary>
    public string TestImage => $"slipway-{Unique}/tests:1";

    /// <summary>The test image without a USER: runs as root.</summary>
    public string RootImage => $"slipway-{Unique}/root-tests:1";

    /// <summary>
    /// Non-root perl HTTP service; MODE env: good, bad, never, crash; and hostile ones, with TARGET env
    /// (<c>host:port</c> of a listener the test started): hostile (spec paths aimed at TARGET), redirect (answers
    /// 302 to TARGET), hugebody (an 8 MiB answer), hugespec (an 8 MiB spec), flood (20 MB of log before it listens),
    /// probehost (before it listens, connects to its network's gateway, the build host, on TARGET's port and logs whether it got through).
    /// </summary>
    public string ServiceImage => $"slipway-{Unique}/service:1";

    /// <summary>The base image without perl: a smoke forwarder made from it is created but cannot start.</summary>
    public string NoPerlImage => $"slipway-{Unique}/no-perl:1";

    public async Task BuildNoPerlImageAsync() =>
        await BuildAsync(NoPerlImage, $"""
            FROM {BaseImage}
            RUN rm -f /usr/bin/perl /usr/bin/perl5*
            """);

    public async Task InitializeAsync()
    {
        await BuildAsync(TestImage, $"""
            FROM {BaseImage}
            COPY run.sh /run.sh
            USER 900:900
            ENTRYPOINT ["bash", "/run.sh"]
            """, ("run.sh", RunScript));
        await BuildAsync(RootImage, $"""
            FROM {BaseImage}
            COPY run.sh /run.sh
            ENTRYPOINT ["bash", "/run.sh"]
            """, ("run.sh", RunScript));
        await BuildAsync(ServiceImage, $"""
            FROM {BaseImage}
            COPY app.pl /srv/app.pl
            USER 900:900
            EXPOSE 8080
            ENTRYPOINT ["perl", "/srv/app.pl"]
            """, ("app.pl", ServiceScript));
    }

    public async Task DisposeAsync()
    {
        // Belt and braces: anything a failed test left behind with our label goes too.
        var filter = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{RunLabel}={Unique}"] = true } };
        foreach (var c in await Docker.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = filter }))
            await Docker.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true });
        foreach (var n in await Docker.Networks.ListNetworksAsync(new NetworksListParameters { Filters = filter }))
            await Docker.Networks.DeleteNetworkAsync(n.ID);
        foreach (var image in new[] { TestImage, RootImage, ServiceImage, NoPerlImage })
        {
            try { await Docker.Images.DeleteImageAsync(image, new ImageDeleteParameters { Force = true, NoPrune = false }); }
            catch (DockerApiException) { }
        }
        Docker.Dispose();
    }

    /// <summary>Containers and networks still carrying this fixture's label: a test asserts there are none.</summary>
    public async Task<(int Containers, int Networks)> LeftoversAsync()
    {
        var filter = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{RunLabel}={Unique}"] = true } };
        var containers = await Docker.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = filter });
        var networks = await Docker.Networks.ListNetworksAsync(new NetworksListParameters { Filters = filter });
        return (containers.Count, networks.Count);
    }

    private async Task BuildAsync(string tag, string dockerfile, params (string Name, string Content)[] files)
    {
        using var context = new MemoryStream();
        await using (var tar = new TarWriter(context, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, content) in files.Append(("Dockerfile", dockerfile)))
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content.ReplaceLineEndings("\n"))), Mode = (UnixFileMode)0b110_100_100 };
                await tar.WriteEntryAsync(entry);
            }
        }
        context.Position = 0;
        var errors = new List<string>();
        await Docker.Images.BuildImageFromDockerfileAsync(
            new ImageBuildParameters { Tags = [tag], Labels = new Dictionary<string, string>(Labels), Remove = true, ForceRemove = true },
            context, null, null, new Progress<JSONMessage>(m => { if (m.Error is not null) lock (errors) errors.Add(m.Error.Message); }), CancellationToken.None);
        await Task.Delay(100); // Progress<T> reports asynchronously
        if (errors.Count > 0) throw new InvalidOperationException($"building {tag} failed: {string.Join("; ", errors)}");
        await Docker.Images.InspectImageAsync(tag); // throws if the build produced nothing
    }

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v
            : throw new InvalidOperationException($"{name} is not set: run through `./slipway test` (or load the infrastructure's env file)");

    private const string RunScript = """
        #!/bin/bash
        # Test entry point stand-in: what it does is chosen by its first argument.
        case "$1" in
          pass)  echo "running 3 tests"; echo "ok 1"; echo "ok 2"; echo "ok 3 $GREETING"; exit 0 ;;
          fail)  for i in $(seq 1 200); do echo "progress line $i"; done; sleep 0.3; echo "FAIL: expected 2, got 3" >&2; exit 3 ;;
          sleep) echo "sleeping"; sleep 600; echo "woke up" ;;
          net)   echo "interfaces: $(ls /sys/class/net | tr '\n' ' ')"
                 if timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null; then echo "REACHED 127.0.0.1:$2"; exit 0; fi
                 if getent hosts deb.debian.org >/dev/null 2>&1; then echo "RESOLVED deb.debian.org"; exit 0; fi
                 echo "network unreachable"; exit 7 ;;
          flood) yes "a line of output that repeats and repeats and repeats" | head -c 50000000; echo; echo "done flooding"; exit 0 ;;
          floodwait) yes "a line of output that repeats and repeats and repeats" | head -c 30000000; echo; echo "done flooding"; sleep 600 ;;
          whoami) echo "uid=$(id -u)"; exit 0 ;;
          *)     echo "unknown mode $1"; exit 2 ;;
        esac
        """;

    private const string ServiceScript = """
        use strict; use IO::Socket::INET;
        $| = 1; $SIG{PIPE} = 'IGNORE'; # a client that stops reading a huge answer must not kill the service
        my $mode = $ENV{MODE} // 'good';
        my $target = $ENV{TARGET} // '127.0.0.2:9';
        print "service starting in mode $mode\n";
        if ($mode eq 'flood') { my $line = "a line of log output that repeats and repeats\n"; print $line for 1 .. 400_000; print "flooded\n"; }
        if ($mode eq 'never') { print "waiting for a dependency that never comes\n"; sleep 100000; }
        if ($mode eq 'crash') { print "fatal: configuration missing\n"; exit 3; }
        if ($mode eq 'probehost') {
          # The build host as the service sees it: its network's gateway (the default route), on TARGET's port.
          my $gw;
          if (open my $r, '<', '/proc/net/route') { while (<$r>) { my @f = split; if ($f[1] eq '00000000') { $gw = join '.', reverse map { hex } unpack '(A2)4', $f[2]; last; } } }
          my $port = (split /:/, $target)[1];
          my $s = $gw && IO::Socket::INET->new(PeerAddr => $gw, PeerPort => $port, Timeout => 3);
          if ($s) { print $s "from the service under test\n"; close $s; }
          print $s ? "probe: reached the host at $gw:$port\n" : "probe: the host at " . ($gw // 'no gateway') . ":$port is unreachable\n";
        }
        my $spec = '{"openapi":"3.0.0","info":{"title":"hello","version":"1"},"x-default-params":{"name":"world"},"paths":{'
          . '"/hello/{name}":{"get":{"x-amples":['
          .   '{"title":"greets by name","request":{"params":{"name":"world"}},"response":{"status":200,"headers":{"content-type":"application/json"},"body":{"greeting":"Hello, world!"}}},'
          .   '{"title":"says who greets","request":{"params":{"name":"x"}},"response":{"status":200,"headers":{"X-Greeter":"/^slip/"}}}]}},'
          . '"/status":{"get":{"x-amples":[{"title":"reports ok","response":{"status":200,"body":{"ok":true,"checks":["/^db/"]}}}]}},'
          . '"/_info":{"get":{}},'
          . '"/admin":{"post":{"x-monitor":false}}}}';
        # Paths aimed at another host, as written in a spec: none may be sent anywhere.
        my $hostile = <<'JSON';
        {"openapi":"3.0.0","x-default-params":{"where":"@TARGET"},"paths":{
          "/_info":{"get":{}},
          "@TARGET/at":{"get":{}},
          "//TARGET/slashes":{"get":{}},
          "http://TARGET/absolute":{"get":{}},
          "\\\\TARGET/backslashes":{"get":{}},
          "/%2f%2fTARGET/encoded-slashes":{"get":{}},
          "/%252f%252fTARGET/double-encoded":{"get":{}},
          "%40TARGET/encoded-at":{"get":{}},
          "/x\r\nHost: TARGET":{"get":{}},
          "/hello/{name}":{"get":{"x-amples":[{"title":"param with @","request":{"params":{"name":"@TARGET"}}}]}},
          "{+where}/param-prefix":{"get":{}},
          "/headers":{"get":{"x-amples":[{"title":"host header","request":{"headers":{"Host":"TARGET"}}}]}}
        }}
        JSON
        $hostile =~ s/TARGET/$target/g;
        if ($mode eq 'hostile') { $spec = $hostile; }
        if ($mode eq 'redirect') {
          $spec = '{"openapi":"3.0.0","paths":{"/go":{"get":{}},"/go-expected":{"get":{"x-amples":[{"title":"a redirect is an answer","response":{"status":302}}]}}}}';
        }
        if ($mode eq 'hugebody') { $spec = '{"openapi":"3.0.0","paths":{"/big":{"get":{}},"/big-announced":{"get":{}}}}'; }
        my $listener = IO::Socket::INET->new(LocalPort => 8080, Listen => 16, ReuseAddr => 1) or die "listen: $!";
        print "listening on 8080\n";
        while (my $c = $listener->accept) {
          my $line = <$c>; next unless defined $line;
          my ($method, $path) = split ' ', $line;
          while (my $h = <$c>) { last if $h =~ /^\r?\n$/; }
          my ($status, $type, $body, $extra) = (404, 'text/plain', 'not found', '');
          if ($path =~ m{^/go}) { ($status, $body, $extra) = (302, 'moved', "Location: http://$target/stolen\r\n"); }
          elsif ($path eq '/big' or ($mode eq 'hugespec' and $path eq '/?spec')) {
            # No Content-Length: the reader only learns the size by reading.
            print $c "HTTP/1.1 200 X\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"paths\":{\"";
            my $chunk = 'x' x 65536; for (1 .. 128) { print $c $chunk or last; }
            close $c; print "$method $path -> 200 (8 MiB)\n"; next;
          }
          elsif ($path eq '/big-announced') {
            print $c "HTTP/1.1 200 X\r\nContent-Type: text/plain\r\nContent-Length: 8388608\r\nConnection: close\r\n\r\n";
            my $chunk = 'x' x 65536; for (1 .. 128) { print $c $chunk or last; }
            close $c; print "$method $path -> 200 (8 MiB announced)\n"; next;
          }
          elsif ($path eq '/_info') { ($status, $type, $body) = (200, 'application/json', '{"name":"hello","version":"1"}'); }
          elsif ($path eq '/?spec') { ($status, $type, $body) = (200, 'application/json', $spec); }
          elsif ($path =~ m{^/hello/([^/?]*)}) {
            my $name = $1; $name =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
            ($status, $type) = (200, 'application/json; charset=utf-8');
            $body = $mode eq 'bad' ? '{"greeting":"Hi"}' : qq({"greeting":"Hello, $name!"});
            $extra = 'X-Greeter: ' . ($mode eq 'bad' ? 'other' : 'slipway') . "\r\n";
          }
          elsif ($path eq '/status') { ($status, $type, $body) = ($mode eq 'bad' ? 500 : 200, 'application/json', '{"ok":true,"checks":["db","cache"]}'); }
          # Logged before answering, so the line is in the log before the checker has its answer (the tail is read then).
          print "$method $path -> $status\n";
          print $c "HTTP/1.1 $status X\r\nContent-Type: $type\r\nContent-Length: " . length($body) . "\r\nConnection: close\r\n$extra\r\n$body";
          close $c;
        }
        """;
}
