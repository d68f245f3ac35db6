using System.Diagnostics;

namespace Slipway.Bench;

/// <summary>
/// The publish step by hand: <c>docker tag</c> and <c>docker push --all-tags</c> of an image to a registry, as a person
/// would type them. Logs in with its own docker config directory, so the machine's ~/.docker is never touched;
/// removes its tags and the directory afterwards.
/// </summary>
public sealed class HandPusher : IAsyncDisposable
{
    private readonly string _config;
    private readonly string _registry;

    private HandPusher(string config, string registry) { _config = config; _registry = registry; }

    public static async Task<HandPusher> LoginAsync(string registry, string user, string password)
    {
        var config = Directory.CreateTempSubdirectory("slipway-bench-docker-").FullName;
        var info = new ProcessStartInfo("docker") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--config", config, "login", "--username", user, "--password-stdin", registry }) info.ArgumentList.Add(a);
        using var login = Process.Start(info)!;
        await login.StandardInput.WriteAsync(password);
        login.StandardInput.Close();
        var stderr = login.StandardError.ReadToEndAsync();
        await login.StandardOutput.ReadToEndAsync();
        if (!login.WaitForExit(TimeSpan.FromSeconds(30)) || login.ExitCode != 0)
            throw new InvalidOperationException($"docker login {registry}: {await stderr}");
        return new HandPusher(config, registry);
    }

    /// <summary>Tags <paramref name="imageId"/> as registry/repository:tag for each tag and pushes them; returns the time taken.</summary>
    public async Task<TimeSpan> PushAsync(string imageId, string repository, IReadOnlyList<string> tags)
    {
        var target = $"{_registry}/{repository}";
        var clock = Stopwatch.StartNew();
        foreach (var tag in tags) await PipelineBench.Docker(".", "--config", _config, "tag", imageId, $"{target}:{tag}");
        await PipelineBench.Docker(".", "--config", _config, "push", "--quiet", "--all-tags", target);
        var elapsed = clock.Elapsed;
        // The image keeps its builder's name, so removing these references only untags.
        await PipelineBench.Docker(".", ["--config", _config, "rmi", "--no-prune", .. tags.Select(t => $"{target}:{t}")]);
        return elapsed;
    }

    public ValueTask DisposeAsync()
    {
        try { Directory.Delete(_config, recursive: true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}
