using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Deployer.Config;

namespace Slipway.Tests.Integration.Deployer;

/// <summary>
/// An automatic rollback reverts its own run's commit in the configuration registry, never a newer run's
/// (real bare repository, git CLI).
/// </summary>
public sealed class ConfigRegistryOwnRevertTests : IDisposable
{
    private static string Image(char digit) => $"127.0.0.1:5000/wikimedia/hello@sha256:{new string(digit, 64)}";
    private static readonly string A = Image('a'), B = Image('b'), C = Image('c');
    private const string File = "environments/production/hello.yaml";

    private readonly string _root = Directory.CreateTempSubdirectory("slipway-config-own-revert-").FullName;
    private readonly ConfigRegistry _registry;

    public ConfigRegistryOwnRevertTests() =>
        _registry = new ConfigRegistry(new ConfigRegistryOptions
        {
            RepositoryUrl = Path.Combine(_root, "registry.git"), WorkDir = Path.Combine(_root, "clone"), CreateIfMissing = true,
        }, NullLogger<ConfigRegistry>.Instance);

    private Task<string> DeployAsync(string image, string runId) =>
        _registry.RecordAsync("production", "hello", new ServiceValues { Image = image, Replicas = 2 }, new DeploymentProvenance(RunId: runId),
            CancellationToken.None);

    private Task<string?> RevertOwnAsync(string commit, string runId) =>
        _registry.RevertAsync("production", "hello", commit, "canary failed", new DeploymentProvenance(RunId: runId, By: "slipway"), CancellationToken.None);

    [Fact]
    public async Task A_failed_rollout_reverts_its_own_commit_and_leaves_a_newer_runs_commit_alone()
    {
        await DeployAsync(A, "run-a");
        var b = await DeployAsync(B, "run-b");
        var c = await DeployAsync(C, "run-c"); // a newer run recorded its image after run b

        // run b's rollout fails now: its commit is no longer the service's latest, so nothing is reverted.
        Assert.Null(await RevertOwnAsync(b, "run-b"));
        Assert.Equal(C, Values().Image);
        Assert.Equal(3, int.Parse(Bare("rev-list", "--count", "main").Trim()));

        // run c's rollout fails: its own commit is reverted, back to b's image.
        var revert = await RevertOwnAsync(c, "run-c");
        Assert.NotNull(revert);
        Assert.Equal(B, Values().Image);
        Assert.Contains($"This reverts commit {c}.", Bare("log", "-1", "--format=%B", "main"));
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
