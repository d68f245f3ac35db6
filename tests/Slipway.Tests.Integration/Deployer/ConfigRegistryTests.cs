using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Deployer.Config;

namespace Slipway.Tests.Integration.Deployer;

/// <summary>The configuration registry against a real bare repository in a temp directory, through the real git CLI.</summary>
public sealed class ConfigRegistryTests : IDisposable
{
    private const string V1 = "127.0.0.1:5000/wikimedia/hello@sha256:1111111111111111111111111111111111111111111111111111111111111111";
    private const string V2 = "127.0.0.1:5000/wikimedia/hello@sha256:2222222222222222222222222222222222222222222222222222222222222222";
    private const string V3 = "127.0.0.1:5000/wikimedia/hello@sha256:3333333333333333333333333333333333333333333333333333333333333333";

    private readonly string _root = Directory.CreateTempSubdirectory("slipway-config-registry-").FullName;
    private string Bare => Path.Combine(_root, "registry.git");

    private ConfigRegistry Registry(string clone = "clone") => new(new ConfigRegistryOptions
    {
        RepositoryUrl = Bare,
        WorkDir = Path.Combine(_root, clone),
        CreateIfMissing = true,
    }, NullLogger<ConfigRegistry>.Instance);

    private static ServiceValues Values(string image, int replicas = 3) => new()
    {
        Image = image,
        Replicas = replicas,
        Port = 8080,
        Probes = new ProbeValues { Readiness = "/readyz", Liveness = "/healthz" },
        Resources = new ResourceValues { Cpus = 0.5, Memory = "256Mi" },
        Env = new Dictionary<string, string> { ["LOG_LEVEL"] = "info", ["FEATURE"] = "true" },
    };

    private static readonly DeploymentProvenance Provenance = new(
        RunId: "run-abc123", ChangeUrl: "http://127.0.0.1:8080/c/hello/+/42", ChangeNumber: 42, Patchset: 3,
        Revision: "0123456789abcdef0123456789abcdef01234567", By: "Jane Doe <jane@example.org>");

    [Fact]
    public async Task Record_writes_the_values_file_and_a_commit_whose_trailers_name_the_run_and_change()
    {
        var sha = await Registry().RecordAsync("staging", "hello", Values(V1), Provenance, CancellationToken.None);

        Assert.Matches("^[0-9a-f]{40}$", sha);
        Assert.Equal(sha, BareGit("rev-parse", "main").Trim());
        Assert.Equal($"""
            # Managed by the Slipway deployer: every change here is a deployment.
            image: {V1}
            replicas: 3
            port: 8080
            probes:
              readiness: /readyz
              liveness: /healthz
            resources:
              cpus: 0.5
              memory: 256Mi
            env:
              FEATURE: "true"
              LOG_LEVEL: info

            """.ReplaceLineEndings("\n"), BareGit("show", "main:environments/staging/hello.yaml"));
        Assert.Equal($"""
            Deploy hello to staging: 127.0.0.1:5000/wikimedia/hello@sha256:111111111111

            replicas 3, port 8080

            Slipway-Environment: staging
            Slipway-Service: hello
            Slipway-Image: {V1}
            Slipway-Run: run-abc123
            Change: http://127.0.0.1:8080/c/hello/+/42
            Change-Number: 42
            Patchset: 3
            Revision: 0123456789abcdef0123456789abcdef01234567
            Requested-By: Jane Doe <jane@example.org>

            """.ReplaceLineEndings("\n"), RawMessage("main"));
        Assert.Equal("Slipway deployer <slipway@localhost>|Slipway deployer <slipway@localhost>", BareGit("log", "-1", "--format=%an <%ae>|%cn <%ce>", "main").Trim());
        Assert.Equal(Values(V1), await Registry().GetAsync("staging", "hello", CancellationToken.None));
    }

    [Fact]
    public async Task Recording_the_same_values_again_adds_no_commit_and_returns_the_one_that_recorded_them()
    {
        var first = await Registry().RecordAsync("staging", "hello", Values(V1), Provenance, CancellationToken.None);
        // A redelivered event, handled by the same instance and by another instance with its own clone.
        var again = await Registry().RecordAsync("staging", "hello", Values(V1), Provenance, CancellationToken.None);
        var elsewhere = await Registry("other-clone").RecordAsync("staging", "hello", Values(V1), Provenance with { RunId = "run-redelivered" }, CancellationToken.None);

        Assert.Equal(first, again);
        Assert.Equal(first, elsewhere);
        Assert.Equal("1", BareGit("rev-list", "--count", "main").Trim());
    }

    [Fact]
    public async Task Revert_puts_the_previous_values_back_and_the_log_shows_the_revert()
    {
        var registry = Registry();
        var v1 = await registry.RecordAsync("production", "hello", Values(V1), Provenance, CancellationToken.None);
        var v1Content = BareGit("show", "main:environments/production/hello.yaml");
        var v2 = await registry.RecordAsync("production", "hello", Values(V2, replicas: 4), Provenance with { RunId = "run-2" }, CancellationToken.None);

        var revert = await registry.RevertLastAsync("production", "hello", "canary failed: GET /readyz -> 503",
            new DeploymentProvenance(RunId: "run-2", By: "slipway"), CancellationToken.None);

        Assert.NotNull(revert);
        Assert.Equal(revert, BareGit("rev-parse", "main").Trim());
        Assert.Equal(v1Content, BareGit("show", "main:environments/production/hello.yaml"));
        Assert.Equal(Values(V1), await Registry("fresh").GetAsync("production", "hello", CancellationToken.None));
        Assert.Equal($"""
            Roll back hello in production: revert {v2[..12]}

            canary failed: GET /readyz -> 503

            This reverts commit {v2}.

            Slipway-Environment: production
            Slipway-Service: hello
            Slipway-Image: {V1}
            Slipway-Reverts: {v2}
            Slipway-Run: run-2
            Requested-By: slipway

            """.ReplaceLineEndings("\n"), RawMessage("main"));
        Assert.Equal([revert, v2, v1], BareGit("log", "--format=%H", "main").Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // The first deployment reverted: the service has no values any more (the backend then removes it).
        Assert.Null(await registry.RevertLastAsync("staging-empty", "hello", "x", null, CancellationToken.None));
        var first = await registry.RecordAsync("qa", "hello", Values(V1), Provenance, CancellationToken.None);
        Assert.NotNull(await registry.RevertLastAsync("qa", "hello", "bad first deploy", null, CancellationToken.None));
        Assert.Null(await registry.GetAsync("qa", "hello", CancellationToken.None));
        Assert.NotEqual(first, BareGit("rev-parse", "main").Trim());
    }

    [Fact]
    public async Task History_lists_the_file_commits_newest_first_with_their_trailers()
    {
        var registry = Registry();
        var shas = new List<string>();
        foreach (var (image, run) in new[] { (V1, "run-1"), (V2, "run-2"), (V3, "run-3") })
            shas.Add(await registry.RecordAsync("staging", "hello", Values(image), Provenance with { RunId = run }, CancellationToken.None));
        await registry.RecordAsync("staging", "other", Values(V1), Provenance with { RunId = "run-other" }, CancellationToken.None);

        var history = await registry.HistoryAsync("staging", "hello", 2, CancellationToken.None);

        Assert.Equal([shas[2], shas[1]], history.Select(c => c.Sha));
        Assert.Equal(["run-3", "run-2"], history.Select(c => c.RunId));
        Assert.Equal([V3, V2], history.Select(c => c.Image));
        Assert.All(history, c => Assert.Equal("Slipway deployer", c.AuthorName));
        Assert.Equal("42", history[0].Trailers["Change-Number"]);
        Assert.StartsWith("Deploy hello to staging: ", history[0].Subject);
        Assert.Empty(await registry.HistoryAsync("staging", "nothing-here", 10, CancellationToken.None));
    }

    [Theory]
    [InlineData("../etc", "hello")]
    [InlineData("staging", "../../x")]
    [InlineData("staging/..", "hello")]
    [InlineData("Staging", "hello")]
    [InlineData("staging", "hello\n")]
    [InlineData("", "hello")]
    [InlineData("staging", "-rf")]
    [InlineData("staging", ".git")]
    public async Task Names_that_could_leave_the_environments_folder_are_refused(string environment, string service)
    {
        var registry = Registry();
        var record = await Assert.ThrowsAsync<ArgumentException>(() => registry.RecordAsync(environment, service, Values(V1), Provenance, CancellationToken.None));
        Assert.Contains("is invalid", record.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => registry.GetAsync(environment, service, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => registry.RevertLastAsync(environment, service, "x", null, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => registry.HistoryAsync(environment, service, 5, CancellationToken.None));
        Assert.False(Directory.Exists(Bare), "nothing may be created for a refused name");
    }

    [Fact]
    public async Task Values_not_pinned_by_digest_are_refused()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            Registry().RecordAsync("staging", "hello", Values("127.0.0.1:5000/wikimedia/hello:latest"), Provenance, CancellationToken.None));
        Assert.Contains("pinned by digest", error.Message);
    }

    [Fact]
    public async Task Two_deployer_instances_with_their_own_clones_both_land_their_commits()
    {
        await Registry("a").RecordAsync("staging", "seed", Values(V1), Provenance, CancellationToken.None);
        var a = Registry("a");
        var b = Registry("b");
        var writes = Enumerable.Range(0, 4).SelectMany(i => new[]
        {
            a.RecordAsync("staging", $"svc-a{i}", Values(V1), Provenance, CancellationToken.None),
            b.RecordAsync("staging", $"svc-b{i}", Values(V2), Provenance, CancellationToken.None),
        });
        var shas = await Task.WhenAll(writes);

        Assert.Equal(8, shas.Distinct().Count());
        Assert.Equal("9", BareGit("rev-list", "--count", "main").Trim());
        var files = BareGit("ls-tree", "-r", "--name-only", "main", "environments/staging").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(9, files.Length);
    }

    // The commit message exactly as stored (git log --format=%B would add a newline).
    private string RawMessage(string rev)
    {
        var commit = BareGit("cat-file", "commit", rev);
        return commit[(commit.IndexOf("\n\n", StringComparison.Ordinal) + 2)..];
    }

    private string BareGit(params string[] args)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--git-dir=" + Bare);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)}: {error}");
        return output;
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
