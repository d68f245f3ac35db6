using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Deployer.Config;

namespace Slipway.Tests.Integration.Deployer;

/// <summary>
/// Rollback targets from the configuration registry's history, against a real bare repository and the git CLI: the last
/// version deployed before the current one that was not itself rolled back; rolling back twice walks back twice.
/// </summary>
public sealed class ConfigRegistryRollbackTests : IDisposable
{
    private static string Image(char digit) => $"127.0.0.1:5000/wikimedia/hello@sha256:{new string(digit, 64)}";
    private static readonly string A = Image('a'), B = Image('b'), C = Image('c'), D = Image('d');
    private const string File = "environments/production/hello.yaml";

    private readonly string _root = Directory.CreateTempSubdirectory("slipway-config-rollback-").FullName;
    private readonly ConfigRegistry _registry;

    public ConfigRegistryRollbackTests() =>
        _registry = new ConfigRegistry(new ConfigRegistryOptions
        {
            RepositoryUrl = Path.Combine(_root, "registry.git"), WorkDir = Path.Combine(_root, "clone"), CreateIfMissing = true,
        }, NullLogger<ConfigRegistry>.Instance);

    private Task<string> DeployAsync(string image, int replicas = 2) =>
        _registry.RecordAsync("production", "hello", new ServiceValues { Image = image, Replicas = replicas }, new DeploymentProvenance(RunId: "run-" + image[^3..]),
            CancellationToken.None);

    private Task<ConfigRegistry.Rollback?> RollBackAsync(string? requestId = null) =>
        _registry.RollBackAsync("production", "hello", "manual rollback by release-manager", new DeploymentProvenance(By: "release-manager"),
            CancellationToken.None, requestId);

    [Fact]
    public async Task A_request_asked_again_gets_its_own_commit_back_and_never_walks_back_twice()
    {
        await DeployAsync(A);
        var b = await DeployAsync(B);
        await DeployAsync(C);

        var first = (await RollBackAsync("release-manager:r1"))!;
        Assert.Equal((C, B, b, false, null), (first.From.Image, first.To.Image, first.RestoredCommit, first.Resumed, first.Superseded));
        Assert.Contains("Slipway-Rollback-Request: release-manager:r1\n", Bare("log", "-1", "--format=%B", "main"));

        // The same request again (a resumed job, a client's retry): the same commit, nothing new, still on B.
        var again = (await RollBackAsync("release-manager:r1"))!;
        Assert.Equal((first.Sha, C, B, b, true, null), (again.Sha, again.From.Image, again.To.Image, again.RestoredCommit, again.Resumed, again.Superseded));
        Assert.Equal(B, Values().Image);
        Assert.Equal("4", Bare("rev-list", "--count", "main").Trim());

        // After a newer deploy the request's commit is no longer the service's latest: it says so and changes nothing.
        var d = await DeployAsync(D);
        var late = (await RollBackAsync("release-manager:r1"))!;
        Assert.Equal((first.Sha, true, d), (late.Sha, late.Resumed, late.Superseded));
        Assert.Equal(D, Values().Image);
        Assert.Equal("5", Bare("rev-list", "--count", "main").Trim());

        // Another request walks back one more (D → B: C was rolled back).
        var other = (await RollBackAsync("release-manager:r2"))!;
        Assert.Equal((D, B, false), (other.From.Image, other.To.Image, other.Resumed));
    }

    [Fact]
    public async Task Rolling_back_twice_walks_back_twice_and_a_third_time_finds_nothing_earlier()
    {
        var a = await DeployAsync(A, replicas: 1);
        var b = await DeployAsync(B);
        await DeployAsync(C, replicas: 3);

        var first = (await RollBackAsync())!;
        Assert.Equal((C, B, b), (first.From.Image, first.To.Image, first.RestoredCommit));
        Assert.Equal(B, Values().Image);
        Assert.Equal(2, Values().Replicas);
        var message = Bare("log", "-1", "--format=%B", "main");
        Assert.StartsWith("Roll back hello in production: ", message);
        Assert.Contains("manual rollback by release-manager", message);
        Assert.Contains($"Slipway-Image: {B}\n", message);
        Assert.Contains($"Slipway-Restores: {b}\n", message);

        var second = (await RollBackAsync())!;
        Assert.Equal((B, A, a), (second.From.Image, second.To.Image, second.RestoredCommit));
        Assert.Equal((A, 1), (Values().Image, Values().Replicas));

        Assert.Null(await RollBackAsync()); // A was the first version: nothing before it
        Assert.Equal(A, Values().Image);
        Assert.Equal(5, Bare("rev-list", "--count", "main").Trim() is var n ? int.Parse(n) : 0);
    }

    [Fact]
    public async Task A_version_whose_rollout_was_rolled_back_is_never_a_target()
    {
        await DeployAsync(A);
        await DeployAsync(B);
        // B's rollout failed: the deployer reverted it automatically.
        Assert.NotNull(await _registry.RevertLastAsync("production", "hello", "canary failed", null, CancellationToken.None));
        await DeployAsync(C);

        var rollback = (await RollBackAsync())!;
        Assert.Equal((C, A), (rollback.From.Image, rollback.To.Image));
        Assert.Equal(A, Values().Image);
    }

    [Fact]
    public async Task After_a_rollback_and_a_new_release_the_next_rollback_skips_the_rolled_back_version()
    {
        await DeployAsync(A);
        var b = await DeployAsync(B);
        await DeployAsync(C);
        await RollBackAsync(); // C → B
        await DeployAsync(D);

        var rollback = (await RollBackAsync())!;
        Assert.Equal((D, B, b), (rollback.From.Image, rollback.To.Image, rollback.RestoredCommit));
    }

    [Fact]
    public async Task A_service_with_one_version_or_none_has_nothing_to_roll_back_to()
    {
        Assert.Null(await RollBackAsync());
        await DeployAsync(A);
        Assert.Null(await RollBackAsync());
        Assert.Equal("1", Bare("rev-list", "--count", "main").Trim());
    }

    private ServiceValues Values() => ServiceValuesYaml.Deserialize(Bare("show", $"main:{File}"), File);

    private string Bare(params string[] args)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--git-dir=" + Path.Combine(_root, "registry.git"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var git = Process.Start(start)!;
        var output = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        return output;
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
