using System.Formats.Tar;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Slipway.Containers;

namespace Slipway.Tests.Integration.Deployer;

/// <summary>
/// Three versions of a tiny HTTP service, built from the embedded base image (Debian with perl-base, no python),
/// pushed to the embedded registry and removed locally again, so the backend has to pull them by digest with
/// the registry's credentials. v1 and v2 get ready; v3 never does (its /readyz answers 503).
/// </summary>
public sealed class DeployerImagesFixture : IAsyncLifetime
{
    public const string Server = """
        use strict;
        use warnings;
        use IO::Socket::INET;
        $| = 1;
        $SIG{TERM} = sub { print "stopping\n"; exit 0 };
        my $version = $ENV{APP_VERSION} // 'unknown';
        my $ready = ($ENV{APP_READY} // '1') eq '1';
        my $server = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => 8080, Listen => 32, ReuseAddr => 1, Proto => 'tcp')
            or die "cannot listen on 8080: $!";
        print "serving $version on 8080\n";
        print "warming up forever\n" unless $ready;
        while (my $client = $server->accept) {
            $client->timeout(5);
            my $request = <$client> // '';
            while (my $header = <$client>) { last if $header =~ /^\r?\n$/ }
            my ($path) = $request =~ m{^GET (\S+)};
            $path //= '';
            my ($code, $body) = (404, "not found\n");
            if ($path eq '/healthz') { ($code, $body) = (200, "alive\n") }
            elsif ($path eq '/readyz') { ($code, $body) = $ready ? (200, "ready\n") : (503, "not ready\n") }
            elsif ($path eq '/version') { ($code, $body) = (200, "$version\n") }
            print $client "HTTP/1.1 $code X\r\nContent-Type: text/plain\r\nContent-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body";
            close $client;
        }
        """;

    public DockerClient Docker { get; private set; } = null!;
    public DockerOptions DockerOptions { get; } = new() { Endpoint = Require("Docker__Endpoint") };
    public RegistryOptions Registry { get; } = new()
    {
        Url = Require("Registry__Url"), Username = Require("Registry__Username"), Password = Require("Registry__Password"),
    };

    /// <summary>Image references by digest, as the configuration registry records them.</summary>
    public string V1 { get; private set; } = "";
    public string V2 { get; private set; } = "";
    public string V3 { get; private set; } = "";

    private readonly List<string> _references = [];

    public async Task InitializeAsync()
    {
        Docker = new DockerClientConfiguration(new Uri(DockerOptions.Endpoint)).CreateClient();
        var repository = $"{Registry.Url}/slipway-tests/deployer-probe";
        var run = Guid.NewGuid().ToString("N")[..10];
        V1 = await BuildAndPushAsync(repository, $"v1-{run}", "v1", ready: true);
        V2 = await BuildAndPushAsync(repository, $"v2-{run}", "v2", ready: true);
        V3 = await BuildAndPushAsync(repository, $"v3-{run}", "v3", ready: false);
    }

    private async Task<string> BuildAndPushAsync(string repository, string tag, string version, bool ready)
    {
        var dockerfile = $"""
            FROM {Require("Slipway__BaseImage")}
            COPY server.pl /app/server.pl
            ENV APP_VERSION={version} APP_READY={(ready ? "1" : "0")}
            USER 65534:65534
            EXPOSE 8080
            CMD ["perl", "/app/server.pl"]
            """;
        using var context = new MemoryStream();
        await using (var tar = new TarWriter(context, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, text) in new[] { ("Dockerfile", dockerfile), ("server.pl", Server) })
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)),
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                };
                await tar.WriteEntryAsync(entry);
            }
        }
        context.Position = 0;
        var image = $"{repository}:{tag}";
        var errors = new Messages();
        await Docker.Images.BuildImageFromDockerfileAsync(new ImageBuildParameters { Tags = [image], Remove = true, ForceRemove = true },
            context, null, null, errors, CancellationToken.None);
        _references.Add(image);
        if (errors.Errors.Count > 0) throw new InvalidOperationException($"building {image} failed: {string.Join("; ", errors.Errors)}");

        var auth = new AuthConfig { ServerAddress = Registry.Url, Username = Registry.Username, Password = Registry.Password };
        await Docker.Images.PushImageAsync(repository, new ImagePushParameters { Tag = tag }, auth, errors, CancellationToken.None);
        if (errors.Errors.Count > 0) throw new InvalidOperationException($"pushing {image} failed: {string.Join("; ", errors.Errors)}");
        var pinned = (await Docker.Images.InspectImageAsync(image)).RepoDigests.Single(d => d.StartsWith(repository + "@", StringComparison.Ordinal));
        _references.Add(pinned);
        await RemoveLocalAsync(image);
        await RemoveLocalAsync(pinned); // the backend must pull it
        return pinned;
    }

    private async Task RemoveLocalAsync(string reference)
    {
        try { await Docker.Images.DeleteImageAsync(reference, new ImageDeleteParameters { Force = true }); }
        catch (DockerImageNotFoundException) { }
        catch (DockerApiException) { } // still used by a container a test left behind; that test's cleanup removes it
    }

    public async Task DisposeAsync()
    {
        foreach (var reference in _references) await RemoveLocalAsync(reference);
        Docker.Dispose();
    }

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the integration tests through `./slipway test` (or load the embedded infrastructure's environment)");

    private sealed class Messages : IProgress<JSONMessage>
    {
        public List<string> Errors { get; } = [];
        public void Report(JSONMessage value)
        {
            if (value.Error?.Message is { Length: > 0 } error) lock (Errors) Errors.Add(error);
        }
    }
}
